extension Duration: ArgumentValue {
    /// Accepts a whole number followed by a unit, or several such parts added together:
    /// `500ms`, `30s`, `15m`, `24h`, `7d`, `1h30m`.
    init?(argument: String) {
        var total = Duration.zero
        var remaining = Substring(argument)
        guard !remaining.isEmpty else { return nil }

        while !remaining.isEmpty {
            let digits = remaining.prefix(while: \.isASCIIDigit)
            remaining = remaining.dropFirst(digits.count)
            let unit = remaining.prefix(while: { !$0.isASCIIDigit })
            remaining = remaining.dropFirst(unit.count)

            guard let count = Int64(digits), let part = Self.duration(count, unit: unit) else { return nil }
            total += part
        }
        self = total
    }

    static var expectation: String { "a duration such as 30s, 15m, 24h or 7d" }

    private static func duration(_ count: Int64, unit: Substring) -> Duration? {
        let secondsPerUnit: Int64
        switch unit {
        case "ms": return .milliseconds(count)
        case "s": secondsPerUnit = 1
        case "m": secondsPerUnit = 60
        case "h": secondsPerUnit = 3_600
        case "d": secondsPerUnit = 86_400
        default: return nil
        }
        let (seconds, overflow) = count.multipliedReportingOverflow(by: secondsPerUnit)
        return overflow ? nil : .seconds(seconds)
    }

    /// The duration in the units it parses from, for messages and help text: `7d`, `1h30m`, `250ms`.
    var argumentDescription: String {
        var milliseconds = components.seconds * 1_000 + components.attoseconds / 1_000_000_000_000_000
        guard milliseconds > 0 else { return "0s" }

        var parts: [String] = []
        let units: [(suffix: String, milliseconds: Int64)] = [
            ("d", 86_400_000), ("h", 3_600_000), ("m", 60_000), ("s", 1_000), ("ms", 1),
        ]
        for unit in units where milliseconds >= unit.milliseconds {
            parts.append("\(milliseconds / unit.milliseconds)\(unit.suffix)")
            milliseconds %= unit.milliseconds
        }
        return parts.joined()
    }
}

extension Character {
    fileprivate var isASCIIDigit: Bool { isASCII && isWholeNumber }
}
