import Foundation
@_spi(Testing) import KafkaOnce
import Synchronization

/// One scenario in progress: the cluster, the consumers, the store, and what the faults did.
///
/// Faults act through it; the harness reads it to decide when the stream is drained.
public final class ChaosRun: Sendable {
    let cluster: MockKafkaCluster
    let topic: String
    let deadLetterTopic: String
    let group: String
    let partitionCount: Int
    let scenario: ChaosScenario
    let subject: ChaosSubject
    let pacing: Duration
    let logger: KafkaOnceLogger
    let store: StoreProbe
    let ledger: ChaosLedger
    /// For each produced position, the idempotency key the runtime will derive for it.
    let keyAt: [KafkaTopicPartitionOffset: String]
    let commitsAhead = Atomic<Int>(0)
    private let consumers = Mutex<[(consumer: EffectivelyOnceConsumer, task: Task<Void, any Error>)]>([])
    private let finishedDeliveries = Atomic<Int>(0)
    private let finishedSkips = Atomic<Int>(0)
    private let stall = Mutex<Duration?>(nil)
    private let consumerErrors = Mutex<[String]>([])

    init(
        cluster: MockKafkaCluster,
        topic: String,
        deadLetterTopic: String,
        group: String,
        partitionCount: Int,
        scenario: ChaosScenario,
        subject: ChaosSubject,
        pacing: Duration,
        logger: KafkaOnceLogger,
        store: StoreProbe,
        keyAt: [KafkaTopicPartitionOffset: String]
    ) {
        self.cluster = cluster
        self.topic = topic
        self.deadLetterTopic = deadLetterTopic
        self.group = group
        self.partitionCount = partitionCount
        self.scenario = scenario
        self.subject = subject
        self.pacing = pacing
        self.logger = logger
        self.store = store
        self.ledger = ChaosLedger(dialect: subject.dialect)
        self.keyAt = keyAt
    }

    // MARK: - Consumers

    /// Starts one more consumer of the scenario's group.
    func startConsumer() async throws {
        let consumer = makeConsumer()
        let task = Task { [self] in
            do {
                try await consumer.run()
            } catch {
                consumerErrors.withLock { $0.append("\(error)") }
                throw error
            }
        }
        consumers.withLock { $0.append((consumer, task)) }
    }

    /// Stops the oldest consumer gracefully: it drains, commits and leaves the group.
    func stopFirstConsumer() async {
        guard let first = consumers.withLock({ $0.isEmpty ? nil : $0.removeFirst() }) else { return }
        first.consumer.shutdown()
        _ = try? await first.task.value
        record(first.consumer.metrics.snapshot())
    }

    private func record(_ metrics: EffectivelyOnceMetrics.Snapshot) {
        finishedDeliveries.add(metrics.deliveries)
        finishedSkips.add(metrics.duplicatesSkipped)
    }

    /// Kills the oldest consumer as a crash would (no commit, no leaving the group), then starts
    /// a new one.
    func crashAndRestart() async throws {
        guard let first = consumers.withLock({ $0.isEmpty ? nil : $0.removeFirst() }) else { return }
        first.consumer.abort()
        _ = try? await first.task.value
        record(first.consumer.metrics.snapshot())
        try await startConsumer()
    }

    /// Stops every consumer gracefully.
    func stopAll() async {
        while consumers.withLock({ !$0.isEmpty }) {
            await stopFirstConsumer()
        }
    }

    /// Makes the next handler call sleep for `duration` before it does anything.
    func stallNextHandler(for duration: Duration) {
        stall.withLock { $0 = duration }
    }

    /// Deliveries of every consumer, finished or running.
    var deliveries: Int {
        finishedDeliveries.load(ordering: .relaxed)
            + consumers.withLock { $0.reduce(0) { $0 + $1.consumer.metrics.snapshot().deliveries } }
    }

    /// Duplicates skipped by every consumer, finished or running.
    var duplicatesSkipped: Int {
        finishedSkips.load(ordering: .relaxed)
            + consumers.withLock { $0.reduce(0) { $0 + $1.consumer.metrics.snapshot().duplicatesSkipped } }
    }

    /// Errors that stopped a consumer.
    var errors: [String] { consumerErrors.withLock { $0 } }

    private func takeStall() -> Duration? {
        stall.withLock { stall in
            defer { stall = nil }
            return stall
        }
    }

    // MARK: - Building a consumer

    private func makeConsumer() -> EffectivelyOnceConsumer {
        var configuration = EffectivelyOnceConfiguration(
            bootstrapServers: cluster.bootstrapServers,
            groupID: group,
            topics: [topic]
        )
        if !scenario.usesGroup {
            configuration.partitions = (0..<partitionCount).map {
                KafkaTopicPartition(topic: topic, partition: Int32($0))
            }
        }
        configuration.consumer.sessionTimeout = .seconds(6)
        configuration.consumer.properties["heartbeat.interval.ms"] = "500"
        configuration.consumer.properties.merge(scenario.consumerProperties) { $1 }
        configuration.handlesSignals = false
        configuration.commitInterval = .milliseconds(200)
        configuration.failurePolicy = .deadLetter(topic: deadLetterTopic)
        configuration.retry = RetryPolicy(
            maxAttempts: 3,
            initialBackoff: .milliseconds(5),
            maxBackoff: .milliseconds(20)
        )
        configuration.leaseDuration = .seconds(20)
        configuration.drainTimeout = .seconds(15)

        var hooks = EffectivelyOnceTestHooks()
        hooks.beforeCommit = { [self] offsets in checkCommit(offsets) }

        let scenario = scenario
        let pacing = pacing
        switch subject {
        case .plain(_, let handler):
            return EffectivelyOnceConsumer(configuration: configuration, store: store, logger: logger, testHooks: hooks)
            {
                [self] message, context in
                try await Task.sleep(for: takeStall() ?? pacing)
                if Self.isPoison(message, in: scenario) { throw ChaosPoison() }
                try await handler(message, context, ledger)
            }
        case .transactional(_, _, let handler):
            return EffectivelyOnceConsumer(
                configuration: configuration,
                transactionalStore: store,
                logger: logger,
                testHooks: hooks
            ) {
                [self] message, context in
                Thread.sleep(forTimeInterval: (takeStall() ?? pacing).seconds)
                if Self.isPoison(message, in: scenario) { throw ChaosPoison() }
                try handler(message, context, ledger)
            }
        }
    }

    static func isPoison(_ message: KafkaMessage, in scenario: ChaosScenario) -> Bool {
        ChaosLedger.id(of: message).map(scenario.isPoisoned(id:)) ?? false
    }

    /// Counts commits that would pass a message whose outcome is not durable.
    private func checkCommit(_ offsets: [KafkaTopicPartitionOffset]) {
        let durable = store.durableKeys.withLock { $0 }
        var ahead = 0
        for commit in offsets {
            for offset in 0..<commit.offset {
                let position = KafkaTopicPartitionOffset(
                    topic: commit.topic,
                    partition: commit.partition,
                    offset: offset
                )
                if let key = keyAt[position], !durable.contains(key) { ahead += 1 }
            }
        }
        if ahead > 0 { commitsAhead.add(ahead) }
    }
}

/// The failure of a poison message.
struct ChaosPoison: Error, CustomStringConvertible {
    var description: String { "poison message: the handler always fails for this id" }
}

extension Atomic where Value == Int {
    func add(_ amount: Int) {
        _ = wrappingAdd(amount, ordering: .relaxed)
    }
}
