/// Input the command line cannot accept: an unknown option, a missing or malformed value.
///
/// The tool prints it as one line naming the command, followed by a pointer to the command's
/// help, and exits with ``ExitCode/usage``. Throw it from ``Command/run(_:)`` for input that only
/// the command can judge, such as a store location.
struct UsageError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What is wrong, naming the input: `unknown option '--grup'`.
    var message: String

    init(_ message: String) {
        self.message = message
    }

    var description: String { message }

    /// A value that does not parse, naming the option, the value and what was expected.
    static func invalidValue(_ value: String, for optionName: String, expected: String) -> UsageError {
        UsageError("invalid value '\(value)' for --\(optionName); expected \(expected)")
    }
}
