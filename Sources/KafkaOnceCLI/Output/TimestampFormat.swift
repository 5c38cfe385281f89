import struct Foundation.Date
import class Foundation.ISO8601DateFormatter

/// How times are written, in human output and in JSON alike: ISO 8601 in UTC with milliseconds,
/// `2024-05-01T12:00:00.250Z`.
enum TimestampFormat {
    static func string(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions.insert(.withFractionalSeconds)
        return formatter.string(from: date)
    }
}

extension JSONValue {
    /// A time as ``TimestampFormat`` writes it, or `null` for `nil`.
    static func timestamp(_ date: Date?) -> JSONValue {
        date.map { .string(TimestampFormat.string($0)) } ?? .null
    }
}
