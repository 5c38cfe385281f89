import Foundation
import KafkaOnce
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The SIGKILL scenario: the consumer runs in a child process that is killed and restarted,
/// while the broker lives on in the harness.
enum ChaosChildProcess {
    private static let current = Mutex<Process?>(nil)

    /// Starts the child, kills it with SIGKILL at random moments after it made progress, at least
    /// `options.minimumKills` times, then lets the last one run.
    static func killRepeatedly(
        _ run: ChaosRun,
        options: ChaosHarness.Options,
        random: inout SeededRandom,
        started: ContinuousClock.Instant
    ) async throws -> [ChaosScenarioReport.InjectedFault] {
        guard let command = options.childProcess?(), !command.isEmpty else { return [] }
        let arguments =
            Array(command.dropFirst()) + [
                "--bootstrap-servers", run.cluster.bootstrapServers, "--topic", run.topic, "--group", run.group,
                "--partitions", String(run.partitionCount), "--dead-letter-topic", run.deadLetterTopic,
                "--pacing-microseconds", String(options.handlerPacing.microseconds),
            ]
        let keys = Array(Set(run.keyAt.values))
        var faults: [ChaosScenarioReport.InjectedFault] = []
        var recorded = 0

        for _ in 0..<options.minimumKills {
            try start(command[0], arguments)
            // Kill only after some progress, at a random moment.
            let target = recorded + max(1, keys.count / (options.minimumKills * 3))
            let deadline = ContinuousClock.now + .seconds(30)
            while recorded < target && ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(50))
                recorded = (try? await run.store.inner.finishedKeys(among: keys).count) ?? recorded
            }
            try await Task.sleep(for: .milliseconds(Int.random(in: 0...300, using: &random)))
            await killCurrent()
            faults.append(.init(name: "sigkill", seconds: (ContinuousClock.now - started).seconds))
            options.narrate?("sigkill: consumer process killed with \(recorded) of \(keys.count) ids recorded")
        }
        try start(command[0], arguments)
        return faults
    }

    private static func start(_ executable: String, _ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        current.withLock { $0 = process }
    }

    private static func killCurrent() async {
        guard let process = current.withLock({ $0 }) else { return }
        kill(process.processIdentifier, SIGKILL)
        await onThread { process.waitUntilExit() }
    }

    /// Stops the last child gracefully (SIGTERM: drain, record, commit) and waits for it.
    static func stopLast() async {
        guard let process = current.withLock({ $0 }) else { return }
        process.terminate()
        await onThread { process.waitUntilExit() }
        current.withLock { $0 = nil }
    }

    private static func onThread(_ body: @escaping @Sendable () -> Void) async {
        await withCheckedContinuation { continuation in
            Thread {
                body()
                continuation.resume()
            }.start()
        }
    }
}
