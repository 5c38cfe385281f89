import Foundation
import KafkaOnce

/// Runs redelivery chaos scenarios against a handler and checks that nothing was lost and
/// nothing applied twice.
///
/// Each scenario starts its own embedded broker, produces messages that each carry a unique id
/// (plus deliberate duplicate produces), runs the consumer, injects the scenario's faults at
/// seeded points, heals, drains until idle, and reports. The same seed repeats the same run.
///
/// ```swift
/// @Test func chargesSurviveRedelivery() async throws {
///     let subject = ChaosSubject.transactional(store: makeStore, dialect: .sqlite) { message, context, ledger in
///         try charge(message, in: context.transaction)
///         try ledger.record(message, in: context.transaction)
///     }
///     let harness = ChaosHarness(subject: subject)
///     let report = try await harness.run(.crashBeforeCommit)
///     #expect(report.passed, "\(report)")
/// }
/// ```
public struct ChaosHarness: Sendable {
    /// Sizes and switches of a run.
    public struct Options: Sendable {
        /// Distinct ids per scenario.
        public var messages = 2000
        /// The seed of every random choice: ids duplicated, their partitions, fault points.
        public var seed: UInt64 = 1
        /// Partitions of the scenario's topic.
        public var partitions = 4
        /// How long a scenario may take to drain after its faults, before it fails.
        public var drainLimit: Duration = .seconds(90)
        /// How to start the consumer in a child process, for the SIGKILL scenario: returns the
        /// executable and its first arguments, called once the scenario's store exists. The
        /// harness adds `--bootstrap-servers`, `--topic`, `--group`, `--partitions` and
        /// `--dead-letter-topic` and `--pacing-microseconds`. `nil` skips that scenario.
        public var childProcess: (@Sendable () -> [String])?
        /// The least number of kills in the SIGKILL scenario.
        public var minimumKills = 5
        /// A pause added to every handler call, so that faults land while the stream flows.
        public var handlerPacing: Duration = .milliseconds(1)
        /// Where the consumers under test log.
        public var logger: KafkaOnceLogger = .disabled
        /// Called with a short line at each step of a scenario (producing, each fault, draining),
        /// for a person watching.
        public var narrate: (@Sendable (String) -> Void)?

        /// Creates the default options: 2000 ids on 4 partitions, seed 1, no child process.
        public init() {}
    }

    /// The handler and store under test.
    public let subject: ChaosSubject
    /// Sizes, seed and switches of the runs.
    public var options: Options

    /// Creates a harness for `subject`; change ``options`` before running to resize the runs.
    public init(subject: ChaosSubject, options: Options = Options()) {
        self.subject = subject
        self.options = options
    }

    /// Runs every scenario in `scenarios`, one after the other.
    public func run(
        _ scenarios: [ChaosScenario],
        progress: (@Sendable (ChaosScenarioReport) -> Void)? = nil
    ) async throws -> ChaosReport {
        var reports: [ChaosScenarioReport] = []
        for scenario in scenarios {
            let report = try await run(scenario)
            progress?(report)
            reports.append(report)
        }
        return ChaosReport(seed: options.seed, scenarios: reports)
    }

    /// Runs one scenario and checks its invariants.
    public func run(_ scenario: ChaosScenario) async throws -> ChaosScenarioReport {
        if let reason = skipReason(scenario) {
            return ChaosScenarioReport.skipped(scenario.name, reason: reason)
        }
        var random = SeededRandom(seed: options.seed ^ UInt64(truncatingIfNeeded: scenario.name.hashValueStable))
        let cluster = try MockKafkaCluster(brokers: 3)
        defer { cluster.shutdown() }
        let topic = "orders"
        let deadLetterTopic = "orders.dead-letter"
        try cluster.createTopic(topic, partitions: options.partitions)
        try cluster.createTopic(deadLetterTopic, partitions: 1)
        // A fresh group and fresh ids per run, so a store or ledger shared between runs stays apart.
        let nonce = String(UInt32.random(in: 0...UInt32.max, using: &random), radix: 36)
        let group = "chaos-\(scenario.name)-\(nonce)"
        options.narrate?("\(scenario.name): producing \(options.messages) messages")

        let production = try await ChaosProduction.produce(
            to: cluster,
            topic: topic,
            group: group,
            messages: options.messages,
            idPrefix: nonce,
            partitions: options.partitions,
            duplicateShare: scenario.duplicateShare,
            random: &random
        )
        let inner = try await makeStore()
        let run = ChaosRun(
            cluster: cluster,
            topic: topic,
            deadLetterTopic: deadLetterTopic,
            group: group,
            partitionCount: options.partitions,
            scenario: scenario,
            subject: subject,
            pacing: options.handlerPacing,
            logger: options.logger,
            store: StoreProbe(inner),
            keyAt: production.keyAt
        )
        if let store = inner as? any TransactionalDeduplicationStore, subject.dialect != nil {
            try await ChaosLedger.prepare(store)
        }

        let started = ContinuousClock.now
        var faults: [ChaosScenarioReport.InjectedFault] = []
        if scenario.killsChildProcess {
            faults = try await ChaosChildProcess.killRepeatedly(
                run,
                options: options,
                random: &random,
                started: started
            )
        } else {
            try await run.startConsumer()
            faults = try await inject(
                scenario.faults,
                into: run,
                production: production,
                random: &random,
                started: started
            )
        }

        options.narrate?("\(scenario.name): draining")
        let drained = await ChaosDrain.waitUntilIdle(run, production: production, limit: options.drainLimit)
        await run.stopAll()
        if scenario.killsChildProcess { await ChaosChildProcess.stopLast() }
        let report = try await ChaosDrain.report(
            run,
            production: production,
            drained: drained,
            faults: faults,
            inner: inner
        )
        try? await inner.close()
        return report
    }

    private func skipReason(_ scenario: ChaosScenario) -> String? {
        if scenario.needsTransactions && subject.dialect == nil {
            return
                "needs a transactional subject: a plain handler's effect can happen after its owner lost the partition"
        }
        if scenario.killsChildProcess && options.childProcess == nil {
            return "needs Options.childProcess, the command that runs the consumer in a child process"
        }
        return nil
    }

    private func makeStore() async throws -> any DeduplicationStore {
        switch subject {
        case .plain(let store, _): try await store()
        case .transactional(let store, _, _): try await store()
        }
    }

    /// Injects each fault once progress reaches its point (moved by up to ±0.05 by the seed).
    private func inject(
        _ faults: [ChaosFault],
        into run: ChaosRun,
        production: ChaosProduction,
        random: inout SeededRandom,
        started: ContinuousClock.Instant
    ) async throws -> [ChaosScenarioReport.InjectedFault] {
        var injected: [ChaosScenarioReport.InjectedFault] = []
        let deadline = ContinuousClock.now + options.drainLimit
        for fault in faults {
            let point = min(0.95, max(0.01, fault.progress + Double.random(in: -0.05...0.05, using: &random)))
            while production.progress(of: run) < point && ContinuousClock.now < deadline && run.errors.isEmpty {
                try await Task.sleep(for: .milliseconds(10))
            }
            injected.append(.init(name: fault.name, seconds: (ContinuousClock.now - started).seconds))
            options.narrate?("\(run.scenario.name): \(fault.name)")
            try await fault.inject(run)
            if let heal = fault.heal {
                try await Task.sleep(for: fault.healAfter)
                try await heal(run)
                injected.append(.init(name: "\(fault.name)-healed", seconds: (ContinuousClock.now - started).seconds))
            }
        }
        return injected
    }
}

extension ChaosScenarioReport {
    static func skipped(_ name: String, reason: String) -> ChaosScenarioReport {
        ChaosScenarioReport(
            name: name,
            faults: [],
            acknowledged: 0,
            produced: 0,
            deliveries: 0,
            duplicatesSkipped: 0,
            effects: 0,
            distinct: 0,
            deadLettered: 0,
            lost: 0,
            duplicated: 0,
            commitsAheadOfRecords: 0,
            finalCommitAtHighWatermark: true,
            lostSample: [],
            duplicatedSample: [],
            skipped: reason
        )
    }
}

extension String {
    /// A hash that is the same in every process (Swift's `hashValue` is seeded per process).
    var hashValueStable: UInt64 {
        utf8.reduce(0xCBF2_9CE4_8422_2325) { ($0 ^ UInt64($1)) &* 0x0000_0100_0000_01B3 }
    }
}
