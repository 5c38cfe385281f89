import Foundation
import Synchronization

/// Runs one mode in a new `kafka-once` process, so that each mode's peak memory is its own.
///
/// The child is this same executable running `bench` with a ``BenchAssignment`` in its
/// environment. Its standard error is this process's, so its failures show up as they happen;
/// its standard output is the one line of its ``BenchMeasurement``.
enum BenchChildProcess {
    /// How long a child may run before it is killed.
    static let timeLimit = Duration.seconds(600)

    /// Runs the child to completion and returns its measurement.
    ///
    /// - Parameter label: How messages name this run, such as `sqlite (repetition 2 of 3)`.
    /// - Throws: ``CommandFailure`` when the child cannot start, exits with a failure, is killed
    ///   at ``timeLimit``, or writes no measurement.
    static func run(_ assignment: BenchAssignment, label: String) async throws -> BenchMeasurement {
        let process = Process()
        process.executableURL = executableURL()
        process.arguments = ["bench"]
        var environment = ProcessInfo.processInfo.environment
        environment[BenchAssignment.environmentVariable] = try assignment.environmentValue()
        process.environment = environment
        process.standardInput = FileHandle.nullDevice
        let output = Pipe()
        process.standardOutput = output

        do {
            try process.run()
        } catch {
            let path = process.executableURL?.path ?? ""
            throw CommandFailure("cannot start the \(label) run as '\(path)': \(error)")
        }
        let collected = BenchPipeReader(output.fileHandleForReading)

        try await waitForExit(process, label: label)
        guard process.terminationReason == .exit, process.terminationStatus == 0 else {
            throw CommandFailure(
                "the \(label) run failed (\(describeTermination(process))); its own error is on the lines above"
            )
        }
        let lastLine = await collected.text().split(separator: "\n").last.map(String.init) ?? ""
        guard let measurement = try? JSONDecoder().decode(BenchMeasurement.self, from: Data(lastLine.utf8)) else {
            throw CommandFailure("the \(label) run exited without a measurement; it wrote '\(lastLine)'")
        }
        return measurement
    }

    /// Waits for the child, polling so that no thread blocks, and kills it at ``timeLimit``.
    private static func waitForExit(_ process: Process, label: String) async throws {
        let deadline = ContinuousClock.now + timeLimit
        while process.isRunning {
            if ContinuousClock.now >= deadline {
                kill(process.processIdentifier, SIGKILL)
                process.waitUntilExit()
                throw CommandFailure(
                    "the \(label) run did not finish within \(Int(timeLimit.seconds)) s and was killed; "
                        + "measure fewer --messages or leave out the slow mode"
                )
            }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    private static func describeTermination(_ process: Process) -> String {
        process.terminationReason == .exit
            ? "exit status \(process.terminationStatus)" : "killed by signal \(process.terminationStatus)"
    }

    /// This executable, so the child runs the same build as the parent.
    private static func executableURL() -> URL {
        #if os(Linux)
        if let path = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            return URL(fileURLWithPath: path)
        }
        #endif
        return Bundle.main.executableURL ?? URL(fileURLWithPath: CommandLine.arguments[0])
    }
}

/// Reads a pipe to its end on a thread of its own, so a child never blocks on a full pipe.
private final class BenchPipeReader: Sendable {
    private let state = Mutex<(data: Data, isDone: Bool)>((Data(), false))

    init(_ handle: FileHandle) {
        let thread = Thread { [self] in
            let data = handle.readDataToEndOfFile()
            state.withLock { $0 = (data, true) }
        }
        thread.start()
    }

    /// Everything read, once the pipe closed.
    func text() async -> String {
        while true {
            let (data, isDone) = state.withLock { ($0.data, $0.isDone) }
            if isDone { return String(decoding: data, as: UTF8.self) }
            try? await Task.sleep(for: .milliseconds(5))
        }
    }
}
