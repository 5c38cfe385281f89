#if canImport(Glibc)
import Glibc

private let systemWrite = Glibc.write
#elseif canImport(Darwin)
import Darwin

private let systemWrite = Darwin.write
#endif

/// Unbuffered writes to standard output and standard error, safe from any thread.
public enum FileHandleOutput: Sendable {
    /// File descriptor 1.
    case standardOutput
    /// File descriptor 2.
    case standardError

    /// Writes `text` in one call, so lines from different threads do not interleave.
    public func write(_ text: String) {
        let descriptor: Int32 = self == .standardOutput ? 1 : 2
        var text = text
        text.withUTF8 { bytes in
            var offset = 0
            while offset < bytes.count {
                let written = systemWrite(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
                if written <= 0 { return }
                offset += written
            }
        }
    }
}
