import KafkaOnce
import Synchronization

/// Standard output for results, standard error for everything else.
///
/// Writes are unbuffered, so a line is out as soon as the call returns: a parent process that
/// reads the first line (as of `mock-cluster`) sees it at once.
enum Console {
    private static let jsonWritten = Atomic(false)

    /// Writes one line of results on standard output.
    static func output(_ line: String) {
        FileHandleOutput.standardOutput.write(line + "\n")
    }

    /// Writes one line of progress or diagnostics on standard error.
    static func log(_ line: String) {
        FileHandleOutput.standardError.write(line + "\n")
    }

    /// Writes `value` as one line of JSON on standard output: the one object of a `--json` run.
    static func json(_ value: JSONValue) {
        jsonWritten.store(true, ordering: .relaxed)
        output(value.serialized())
    }

    /// Whether ``json(_:)`` was called, so a failure after it does not write a second object.
    static var hasWrittenJSON: Bool { jsonWritten.load(ordering: .relaxed) }
}
