import Foundation
import Synchronization

/// A running `kafka-once`, its output collected as it comes, killed if it outlives its timeout.
///
/// The pipes are drained on threads of their own and the exit is awaited by polling, so a test
/// never blocks the cooperative pool while the tool runs.
final class ToolProcess: Sendable {
    /// How long a test lets the tool run before killing it.
    static let defaultTimeout = Duration.seconds(30)

    private let process: Process
    private let standardOutput = OutputBuffer()
    private let standardError = OutputBuffer()
    let arguments: [String]

    /// Starts the tool with `arguments`, standard input empty.
    init(_ arguments: [String]) throws {
        self.arguments = arguments
        process = Process()
        process.executableURL = try ToolExecutable.url()
        process.arguments = arguments
        process.standardInput = FileHandle.nullDevice
        let outputPipe = Pipe()
        let errorPipe = Pipe()
        process.standardOutput = outputPipe
        process.standardError = errorPipe

        try process.run()
        standardOutput.drain(outputPipe.fileHandleForReading)
        standardError.drain(errorPipe.fileHandleForReading)
    }

    /// Runs the tool to completion.
    static func run(_ arguments: String..., timeout: Duration = defaultTimeout) async throws -> ToolResult {
        try await ToolProcess(arguments).finish(timeout: timeout)
    }

    /// The first line the tool writes on standard output, without its newline.
    func firstLineOfOutput(timeout: Duration = defaultTimeout) async throws -> String {
        let deadline = ContinuousClock.now + timeout
        while true {
            let text = standardOutput.text
            if let newline = text.firstIndex(of: "\n") {
                return String(text[..<newline])
            }
            guard standardOutput.isOpen else {
                throw ToolFailure("kafka-once \(arguments) closed its output before writing a line", standardError.text)
            }
            try await pause(before: deadline, "writing its first line")
        }
    }

    /// Sends `signal` to the tool.
    func send(_ signal: Int32) {
        kill(process.processIdentifier, signal)
    }

    /// Waits for the tool to exit and for its output to end.
    func finish(timeout: Duration = defaultTimeout) async throws -> ToolResult {
        let deadline = ContinuousClock.now + timeout
        while process.isRunning || standardOutput.isOpen || standardError.isOpen {
            try await pause(before: deadline, "exiting")
        }
        let exitCode =
            process.terminationReason == .exit ? process.terminationStatus : 128 + process.terminationStatus
        return ToolResult(exitCode: exitCode, standardOutput: standardOutput.text, standardError: standardError.text)
    }

    private func pause(before deadline: ContinuousClock.Instant, _ what: String) async throws {
        guard ContinuousClock.now < deadline else {
            send(SIGKILL)
            throw ToolFailure("kafka-once \(arguments) timed out \(what) and was killed", standardError.text)
        }
        try await Task.sleep(for: .milliseconds(10))
    }
}

/// What a finished `kafka-once` left behind.
struct ToolResult: Sendable {
    var exitCode: Int32
    var standardOutput: String
    var standardError: String

    /// The lines of standard error, without the final empty one.
    var errorLines: [Substring] { standardError.split(separator: "\n") }

    /// Standard output parsed as the one JSON object of a `--json` run.
    func jsonObject() throws -> [String: Any] {
        let data = Data(standardOutput.utf8)
        guard let object = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw ToolFailure("standard output is not one JSON object: \(standardOutput)", standardError)
        }
        return object
    }
}

/// The tool misbehaved in a way a test cannot check further.
struct ToolFailure: Error, CustomStringConvertible {
    var description: String

    init(_ what: String, _ standardError: String) {
        description = what + (standardError.isEmpty ? "" : "; standard error: \(standardError)")
    }
}

/// Bytes read from one pipe, on a thread of its own, until the pipe closes.
private final class OutputBuffer: Sendable {
    private let state = Mutex((bytes: [UInt8](), isOpen: true))

    var text: String { String(decoding: state.withLock { $0.bytes }, as: UTF8.self) }
    var isOpen: Bool { state.withLock { $0.isOpen } }

    func drain(_ handle: FileHandle) {
        let thread = Thread { [self] in
            while true {
                let data = handle.availableData
                guard !data.isEmpty else { break }
                state.withLock { $0.bytes += data }
            }
            state.withLock { $0.isOpen = false }
        }
        thread.start()
    }
}
