import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What this process used: its peak resident memory and its processor time.
enum BenchResourceUsage {
    /// The high-water mark of resident memory, in bytes: `VmHWM` of `/proc/self/status` on Linux,
    /// `getrusage`'s maximum resident set size elsewhere.
    static func peakResidentBytes() -> Int {
        if let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
            let kilobytes = highWaterMarkKilobytes(in: status)
        {
            return kilobytes * 1024
        }
        guard let usage = currentUsage() else { return 0 }
        // Linux reports kilobytes, macOS bytes.
        #if os(Linux)
        return Int(usage.ru_maxrss) * 1024
        #else
        return Int(usage.ru_maxrss)
        #endif
    }

    /// User and system time of every thread of the process so far, in seconds.
    static func processorSeconds() -> Double {
        guard let usage = currentUsage() else { return 0 }
        return seconds(usage.ru_utime) + seconds(usage.ru_stime)
    }

    /// The value of the `VmHWM:   12345 kB` line.
    static func highWaterMarkKilobytes(in status: String) -> Int? {
        guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }) else { return nil }
        return line.split(whereSeparator: { $0 == " " || $0 == "\t" }).dropFirst().first.flatMap { Int($0) }
    }

    private static func currentUsage() -> rusage? {
        var usage = rusage()
        #if os(Linux)
        let status = getrusage(RUSAGE_SELF.rawValue, &usage)
        #else
        let status = getrusage(RUSAGE_SELF, &usage)
        #endif
        return status == 0 ? usage : nil
    }

    private static func seconds(_ time: timeval) -> Double {
        Double(time.tv_sec) + Double(time.tv_usec) / 1_000_000
    }
}
