#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The process environment.
enum Environment {
    /// The value of an environment variable, or `nil` when it is unset.
    static func value(for name: String) -> String? {
        getenv(name).map { String(cString: $0) }
    }
}
