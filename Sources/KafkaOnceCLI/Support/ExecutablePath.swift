import Foundation

/// The path of the running `kafka-once`, to start it again as a child process.
enum ExecutablePath {
    static var current: String {
        #if os(Linux)
        if let resolved = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            return resolved
        }
        #endif
        return Bundle.main.executablePath ?? CommandLine.arguments[0]
    }
}
