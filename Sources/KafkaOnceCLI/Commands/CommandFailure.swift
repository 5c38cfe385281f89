/// A run-time failure a command reports in its own words: what failed, with which input, and what
/// to do. The tool prints it as `kafka-once <command>: error: <message>` and exits with
/// ``ExitCode/failure``.
struct CommandFailure: Error, Sendable, CustomStringConvertible {
    var message: String

    init(_ message: String) {
        self.message = message
    }

    var description: String { message }
}
