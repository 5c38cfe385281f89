import Foundation
import KafkaOnce

/// Runs a shell command for one message: the payload on standard input, the rest in `KAFKA_*`
/// environment variables. Exit status 0 is success; anything else fails the attempt.
///
/// | variable | value |
/// |---|---|
/// | `KAFKA_TOPIC`, `KAFKA_PARTITION`, `KAFKA_OFFSET` | the message's coordinates |
/// | `KAFKA_KEY` | the record key as UTF-8, when it is text |
/// | `KAFKA_IDEMPOTENCY_KEY` | the namespaced idempotency key |
/// | `KAFKA_TIMESTAMP_MS` | the record timestamp in milliseconds since 1970, when set |
/// | `KAFKA_ATTEMPT` | the attempt number, from 1 |
/// | `KAFKA_HEADER_<NAME>` | each text header, its name upper-cased with non-alphanumerics as `_` |
struct ShellHandler: Sendable {
    let command: String

    func run(_ message: KafkaMessage, _ context: MessageContext) async throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", command]
        process.environment = ProcessInfo.processInfo.environment.merging(environment(message, context)) { $1 }
        process.standardInput = try Self.input(holding: message.value ?? [], of: message)

        let status: Int32 = try await withCheckedThrowingContinuation { continuation in
            process.terminationHandler = { continuation.resume(returning: $0.terminationStatus) }
            do {
                try process.run()
            } catch {
                process.terminationHandler = nil
                continuation.resume(throwing: error)
            }
        }
        guard status == 0 else {
            throw ShellCommandFailure(status: status, command: command)
        }
    }

    /// The command's standard input: an unlinked temporary file that already holds the whole
    /// payload when the command starts.
    ///
    /// A pipe filled after the start would leave a command whose `kafka-once` is killed meanwhile
    /// reading a cut-short payload, with nothing to tell it from a short one; a file cannot be cut
    /// short, and writing it never waits for the command to read.
    private static func input(holding payload: [UInt8], of message: KafkaMessage) throws -> FileHandle {
        let directory = FileManager.default.temporaryDirectory
        var template = Array(directory.appendingPathComponent("kafka-once-payload.XXXXXX").path.utf8CString)
        let descriptor = mkstemp(&template)
        guard descriptor >= 0 else {
            throw ShellInputFailure(message: message, directory: directory, reason: String(cString: strerror(errno)))
        }
        unlink(template)
        let file = FileHandle(fileDescriptor: descriptor, closeOnDealloc: true)
        // Close-on-exec, so that commands started meanwhile for other partitions do not inherit
        // it; the command it is for still gets it, as its standard input.
        _ = fcntl(descriptor, F_SETFD, FD_CLOEXEC)
        do {
            try file.write(contentsOf: payload)
            try file.seek(toOffset: 0)
        } catch {
            throw ShellInputFailure(message: message, directory: directory, reason: "\(error)")
        }
        return file
    }

    private func environment(_ message: KafkaMessage, _ context: MessageContext) -> [String: String] {
        var environment = [
            "KAFKA_TOPIC": message.topic,
            "KAFKA_PARTITION": String(message.partition),
            "KAFKA_OFFSET": String(message.offset),
            "KAFKA_IDEMPOTENCY_KEY": context.idempotencyKey,
            "KAFKA_ATTEMPT": String(context.attempt),
        ]
        environment["KAFKA_KEY"] = message.keyText
        environment["KAFKA_TIMESTAMP_MS"] = message.timestamp.map { String(Int64($0.timeIntervalSince1970 * 1000)) }
        for header in message.headers {
            guard let text = header.text else { continue }
            environment["KAFKA_HEADER_" + Self.variableName(header.name)] = text
        }
        return environment
    }

    private static func variableName(_ name: String) -> String {
        String(name.uppercased().map { $0.isLetter || $0.isNumber ? $0 : "_" })
    }
}

/// A command that exited with a non-zero status.
struct ShellCommandFailure: Error, CustomStringConvertible {
    let status: Int32
    let command: String

    var description: String { "the command exited with status \(status): \(command)" }
}

/// The payload could not be handed to the command; the attempt fails and is retried.
struct ShellInputFailure: Error, CustomStringConvertible {
    let message: KafkaMessage
    let directory: URL
    let reason: String

    var description: String {
        "cannot pass the payload of \(message.topic)[\(message.partition)]@\(message.offset) to the command"
            + " through a temporary file in \(directory.path) (\(reason)); check that it is writable and has room,"
            + " or point TMPDIR elsewhere"
    }
}
