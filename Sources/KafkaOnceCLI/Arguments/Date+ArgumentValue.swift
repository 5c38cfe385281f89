import struct Foundation.Date
import class Foundation.ISO8601DateFormatter

extension Date: ArgumentValue {
    /// Accepts an ISO 8601 time with a zone, with or without fractional seconds:
    /// `2024-05-01T12:00:00Z`, `2024-05-01T12:00:00.250+02:00`.
    init?(argument: String) {
        let formatter = ISO8601DateFormatter()
        if let date = formatter.date(from: argument) {
            self = date
            return
        }
        formatter.formatOptions.insert(.withFractionalSeconds)
        guard let date = formatter.date(from: argument) else { return nil }
        self = date
    }

    static var expectation: String { "an ISO 8601 time such as 2024-05-01T12:00:00Z" }
}
