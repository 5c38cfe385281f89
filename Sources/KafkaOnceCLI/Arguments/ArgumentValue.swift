/// A type that can be read from one command-line value.
///
/// Conform a type to read it with ``ParsedArguments/value(_:as:)`` and its relatives; a value that
/// does not parse becomes a usage error that names the option, the value and ``expectation``.
protocol ArgumentValue: Sendable {
    /// Parses one value as typed on the command line; `nil` when it is malformed.
    init?(argument: String)

    /// What a valid value looks like, completing "expected …": `an integer`.
    static var expectation: String { get }
}

extension String: ArgumentValue {
    init?(argument: String) {
        self = argument
    }

    static var expectation: String { "a string" }
}

extension Int: ArgumentValue {
    /// Accepts digits with an optional sign and `_` separators: `1000`, `1_000_000`.
    init?(argument: String) {
        let digits = argument.filter { $0 != "_" }
        guard !digits.isEmpty, let value = Int(digits) else { return nil }
        self = value
    }

    static var expectation: String { "an integer" }
}

extension Int32: ArgumentValue {
    init?(argument: String) {
        guard let value = Int(argument: argument), let narrowed = Int32(exactly: value) else { return nil }
        self = narrowed
    }

    static var expectation: String { "an integer" }
}

extension Int64: ArgumentValue {
    init?(argument: String) {
        guard let value = Int(argument: argument) else { return nil }
        self = Int64(value)
    }

    static var expectation: String { "an integer" }
}

extension Double: ArgumentValue {
    init?(argument: String) {
        guard let value = Double(argument), value.isFinite else { return nil }
        self = value
    }

    static var expectation: String { "a number" }
}
