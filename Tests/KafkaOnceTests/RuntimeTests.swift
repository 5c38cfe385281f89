import Foundation
@_spi(Testing) import KafkaOnce
@_spi(Testing) import KafkaOnceTesting
import Synchronization
import Testing

/// A configuration that reads `topic`'s partitions directly: no group join delay.
func runtimeConfiguration(
    topic: String,
    partitions: Int = 1,
    group: String = "g-\(UUID().uuidString.prefix(6))"
) -> EffectivelyOnceConfiguration {
    var configuration = EffectivelyOnceConfiguration(
        bootstrapServers: TestCluster.shared.bootstrapServers,
        groupID: group,
        topics: [topic]
    )
    configuration.partitions = (0..<partitions).map { KafkaTopicPartition(topic: topic, partition: Int32($0)) }
    configuration.handlesSignals = false
    configuration.commitInterval = .milliseconds(100)
    configuration.retry = RetryPolicy(maxAttempts: 3, initialBackoff: .milliseconds(10), maxBackoff: .milliseconds(50))
    return configuration
}

/// Runs `consumer` until `done` holds (or 30 s pass), then shuts it down; returns whether `done` held.
@discardableResult
func runUntil(_ consumer: EffectivelyOnceConsumer, _ done: @escaping () async -> Bool) async throws -> Bool {
    let running = Task { try await consumer.run() }
    let held = await eventually { await done() }
    consumer.shutdown()
    try await running.value
    return held
}

func id(of message: KafkaMessage) -> String {
    message.header("idempotency-key")?.text ?? "\(message.coordinates)"
}

@Suite struct RuntimeTests {
    @Test func duplicateProducesOfOneIDHaveOneEffect() async throws {
        let topic = try TestCluster.uniqueTopic("dup", partitions: 2)
        let ids = (0..<100).map { "order-\($0)" }
        try await TestCluster.produce(ids: ids + ids.prefix(30), to: topic, partitions: 2)

        let ledger = EffectLedger()
        let consumer = EffectivelyOnceConsumer(
            configuration: runtimeConfiguration(topic: topic, partitions: 2),
            store: InMemoryDeduplicationStore()
        ) { message, _ in
            ledger.apply(id(of: message))
        }
        let drained = try await runUntil(consumer) { consumer.metrics.snapshot().duplicatesSkipped == 30 }

        #expect(drained)
        #expect(ledger.effects.count == 100)
        #expect(ledger.duplicated.isEmpty)
        #expect(consumer.metrics.snapshot().processed == 100)
    }

    @Test func messagesRecordedButNeverCommittedAreSkippedAfterARestart() async throws {
        let cluster = try MockKafkaCluster()
        try cluster.createTopic("orders", partitions: 1)
        let ids = (0..<50).map { "order-\($0)" }
        let producer = try KafkaProducer(configuration: .init(bootstrapServers: cluster.bootstrapServers))
        try await producer.send(
            ids.map {
                KafkaProducerRecord(
                    topic: "orders",
                    partition: 0,
                    value: [1],
                    headers: [.init(name: "idempotency-key", text: $0)]
                )
            }
        )
        try await producer.close()

        var configuration = runtimeConfiguration(topic: "orders", group: "restart")
        configuration.consumer.bootstrapServers = cluster.bootstrapServers
        let store = InMemoryDeduplicationStore()
        let ledger = EffectLedger()
        let handler: MessageHandler = { message, _ in ledger.apply(id(of: message)) }

        // Every commit of the first run is refused, as if the consumer died before committing.
        cluster.injectErrors(.offsetCommit, Array(repeating: .notCoordinator, count: 1000))
        let first = EffectivelyOnceConsumer(configuration: configuration, store: store, handler: handler)
        try await runUntil(first) { ledger.total == 50 }
        cluster.clearErrors(.offsetCommit)

        let second = EffectivelyOnceConsumer(configuration: configuration, store: store, handler: handler)
        try await runUntil(second) { second.metrics.snapshot().duplicatesSkipped == 50 }

        #expect(ledger.effects.count == 50)
        #expect(ledger.duplicated.isEmpty)
        #expect(second.metrics.snapshot().deliveries == 50, "the second run should have seen every message again")
        #expect(second.metrics.snapshot().processed == 0)
    }

    @Test func aHandlerThatFailsTwiceThenSucceedsHasOneEffectAfterThreeAttempts() async throws {
        let topic = try TestCluster.uniqueTopic("flaky")
        try await TestCluster.produce(ids: ["a", "b"], to: topic)
        let ledger = EffectLedger()
        let attemptsSeen = Mutex<[Int]>([])

        let consumer = EffectivelyOnceConsumer(
            configuration: runtimeConfiguration(topic: topic),
            store: InMemoryDeduplicationStore()
        ) { message, context in
            if id(of: message) == "a" {
                attemptsSeen.withLock { $0.append(context.attempt) }
                if ledger.attempt("a") < 3 { throw TestFailure("not yet") }
            }
            ledger.apply(id(of: message))
        }
        try await runUntil(consumer) { ledger.total == 2 }

        #expect(ledger.effects == ["a": 1, "b": 1])
        #expect(attemptsSeen.withLock { $0 } == [1, 2, 3])
        #expect(consumer.metrics.snapshot().retries == 2)
    }

    @Test func aPoisonMessageIsDeadLetteredWithItsOriginAndLaterMessagesAreProcessed() async throws {
        let topic = try TestCluster.uniqueTopic("poison")
        let deadLetterTopic = try TestCluster.uniqueTopic("poison-dlq")
        try await TestCluster.produce(ids: ["ok-1", "poison", "ok-2"], to: topic)
        let ledger = EffectLedger()
        let store = InMemoryDeduplicationStore()

        var configuration = runtimeConfiguration(topic: topic)
        configuration.failurePolicy = .deadLetter(topic: deadLetterTopic)
        let consumer = EffectivelyOnceConsumer(configuration: configuration, store: store) { message, _ in
            if id(of: message) == "poison" { throw TestFailure("cannot parse order") }
            ledger.apply(id(of: message))
        }
        try await runUntil(consumer) { ledger.total == 2 && consumer.metrics.snapshot().deadLettered == 1 }

        #expect(ledger.effects == ["ok-1": 1, "ok-2": 1])
        #expect(consumer.metrics.snapshot().failed == 1)
        let record = try await store.record(for: "\(configuration.consumer.groupID)/id:poison")
        #expect(record?.state == .failed)
        #expect(record?.attempts == 3)

        let reader = try KafkaConsumer(
            configuration: .init(bootstrapServers: TestCluster.shared.bootstrapServers, groupID: "r")
        )
        try await reader.assign([KafkaTopicPartitionOffset(topic: deadLetterTopic, partition: 0, offset: 0)])
        let letters = try await pollUntil(reader, count: 1)
        try await reader.close()
        let letter = try #require(letters.first)
        #expect(letter.valueText == "payload-poison")
        #expect(letter.header("kafka-once-origin-topic")?.text == topic)
        #expect(letter.header("kafka-once-origin-partition")?.text == "0")
        #expect(letter.header("kafka-once-origin-offset")?.text == "1")
        #expect(letter.header("kafka-once-attempts")?.text == "3")
        #expect(letter.header("kafka-once-error")?.text?.contains("cannot parse order") == true)
        #expect(letter.header("kafka-once-idempotency-key")?.text == record?.key)
        #expect(letter.header("idempotency-key")?.text == "poison")
    }

    @Test func aMessageSkippedByTheFailurePolicyIsRecordedFailedAndCounted() async throws {
        let topic = try TestCluster.uniqueTopic("poison-skip")
        try await TestCluster.produce(ids: ["ok-1", "poison", "ok-2"], to: topic)
        let ledger = EffectLedger()
        let store = InMemoryDeduplicationStore()

        var configuration = runtimeConfiguration(topic: topic)
        configuration.failurePolicy = .skip
        let poison = Mutex<(KafkaMessage, String)?>(nil)
        let consumer = EffectivelyOnceConsumer(configuration: configuration, store: store) { message, context in
            if id(of: message) == "poison" {
                poison.withLock { $0 = (message, context.idempotencyKey) }
                throw TestFailure("cannot parse order")
            }
            ledger.apply(id(of: message))
        }
        #expect(try await runUntil(consumer) { ledger.total == 2 && consumer.metrics.snapshot().failed == 1 })

        #expect(ledger.effects == ["ok-1": 1, "ok-2": 1])
        let metrics = consumer.metrics.snapshot()
        #expect(metrics.failed == 1)
        #expect(metrics.deadLettered == 0)
        #expect(metrics.processed == 2)
        #expect(consumer.metrics.prometheusText().contains("kafka_once_failed_total 1\n"))
        // The key a tool outside the consumer derives is the one the consumer recorded.
        let (message, keyInHandler) = try #require(poison.withLock { $0 })
        #expect(configuration.idempotencyKey(for: message) == keyInHandler)
        let record = try await store.record(for: configuration.idempotencyKey(for: message))
        #expect(record?.state == .failed)
    }

    @Test func theSameKeyWithADifferentPayloadIsAConflictNotADuplicate() async throws {
        let topic = try TestCluster.uniqueTopic("conflict")
        let deadLetterTopic = try TestCluster.uniqueTopic("conflict-dlq")
        try await TestCluster.produce(ids: ["x"], to: topic) { _ in "first" }
        try await TestCluster.produce(ids: ["x"], to: topic) { _ in "second" }
        let ledger = EffectLedger()

        var configuration = runtimeConfiguration(topic: topic)
        configuration.failurePolicy = .deadLetter(topic: deadLetterTopic)
        let consumer = EffectivelyOnceConsumer(configuration: configuration, store: InMemoryDeduplicationStore()) {
            message,
            _ in
            ledger.apply(message.valueText!)
        }
        try await runUntil(consumer) { consumer.metrics.snapshot().deadLettered == 1 }

        #expect(ledger.effects == ["first": 1])
        #expect(consumer.metrics.snapshot().conflicts == 1)
        #expect(consumer.metrics.snapshot().duplicatesSkipped == 0)
    }

    @Test func aConflictUnderTheStopPolicyStopsTheConsumerWithoutCommittingIt() async throws {
        let topic = try TestCluster.uniqueTopic("conflict-stop")
        try await TestCluster.produce(ids: ["x"], to: topic) { _ in "first" }
        try await TestCluster.produce(ids: ["x"], to: topic) { _ in "second" }

        var configuration = runtimeConfiguration(topic: topic)
        configuration.conflictPolicy = .stop
        let consumer = EffectivelyOnceConsumer(configuration: configuration, store: InMemoryDeduplicationStore()) {
            _,
            _ in
        }
        let error = await #expect(throws: EffectivelyOnceError.self) { try await consumer.run() }
        #expect(error?.description.contains("conflict") == true)

        let reader = try KafkaConsumer(configuration: configuration.consumer)
        let committed = try await reader.committed([KafkaTopicPartition(topic: topic, partition: 0)])
        try await reader.close()
        #expect(committed.first?.offset == 1, "the conflicting message at offset 1 must stay uncommitted")
    }

    @Test func noCommitEverPassesAMessageWhoseOutcomeIsNotDurable() async throws {
        let topic = try TestCluster.uniqueTopic("watermark", partitions: 3)
        let ids = (0..<600).map { "m\($0)" }
        let positions = try await TestCluster.produce(ids: ids + ids.prefix(100), to: topic, partitions: 3)
        let group = "watermark-\(UUID().uuidString.prefix(6))"
        let keyAt = Dictionary(
            uniqueKeysWithValues: zip(positions, ids + ids.prefix(100)).map { ($0.0, "\(group)/id:\($0.1)") }
        )
        let probe = StoreProbe(InMemoryDeduplicationStore())
        let violations = Mutex<[KafkaTopicPartitionOffset]>([])
        let commits = Mutex(0)

        var hooks = EffectivelyOnceTestHooks()
        hooks.beforeCommit = { offsets in
            let durable = probe.durableKeys.withLock { $0 }
            commits.withLock { $0 += 1 }
            for commit in offsets {
                for offset in 0..<commit.offset {
                    let position = KafkaTopicPartitionOffset(
                        topic: commit.topic,
                        partition: commit.partition,
                        offset: offset
                    )
                    if let key = keyAt[position], !durable.contains(key) {
                        violations.withLock { $0.append(position) }
                    }
                }
            }
        }
        var configuration = runtimeConfiguration(topic: topic, partitions: 3, group: group)
        configuration.commitInterval = .milliseconds(5)
        let consumer = EffectivelyOnceConsumer(configuration: configuration, store: probe, testHooks: hooks) { _, _ in
            try await Task.sleep(for: .milliseconds(2))
        }
        try await runUntil(consumer) { consumer.metrics.snapshot().duplicatesSkipped == 100 }

        #expect(commits.withLock { $0 } > 3)
        #expect(violations.withLock { $0 }.isEmpty)
    }

    @Test func theBrokenSwitchIsCaughtByTheSameCheck() async throws {
        let topic = try TestCluster.uniqueTopic("broken")
        let ids = (0..<200).map { "m\($0)" }
        let positions = try await TestCluster.produce(ids: ids, to: topic)
        let group = "broken-\(UUID().uuidString.prefix(6))"
        let keyAt = Dictionary(uniqueKeysWithValues: zip(positions, ids).map { ($0.0, "\(group)/id:\($0.1)") })
        let probe = StoreProbe(InMemoryDeduplicationStore())
        let violations = Mutex(0)

        var hooks = EffectivelyOnceTestHooks()
        hooks.commitsBeforeRecording = true
        hooks.beforeCommit = { offsets in
            let durable = probe.durableKeys.withLock { $0 }
            for commit in offsets {
                let missing = (0..<commit.offset).filter {
                    keyAt[KafkaTopicPartitionOffset(topic: commit.topic, partition: commit.partition, offset: $0)]
                        .map { !durable.contains($0) } ?? false
                }
                violations.withLock { $0 += missing.count }
            }
        }
        var configuration = runtimeConfiguration(topic: topic, group: group)
        configuration.commitInterval = .milliseconds(5)
        let consumer = EffectivelyOnceConsumer(configuration: configuration, store: probe, testHooks: hooks) { _, _ in
            try await Task.sleep(for: .milliseconds(2))
        }
        try await runUntil(consumer) { consumer.metrics.snapshot().processed == 200 }

        #expect(violations.withLock { $0 } > 0, "committing before recording must be visible to the check")
    }

    @Test func aStoreThatBreaksStopsTheConsumerWithoutCommittingUnrecordedMessages() async throws {
        let topic = try TestCluster.uniqueTopic("store-broken")
        try await TestCluster.produce(ids: (0..<20).map { "m\($0)" }, to: topic)
        let probe = StoreProbe(InMemoryDeduplicationStore())
        let handled = Mutex(0)

        var configuration = runtimeConfiguration(topic: topic)
        configuration.storeRetryLimit = .milliseconds(300)
        let consumer = EffectivelyOnceConsumer(configuration: configuration, store: probe) { _, _ in
            let count = handled.withLock { count in
                count += 1
                return count
            }
            if count == 5 {
                probe.failure.withLock { $0 = DeduplicationStoreError(.unusable, "the disk is full") }
            }
        }
        let error = await #expect(throws: EffectivelyOnceError.self) { try await consumer.run() }
        #expect(error?.description.contains("the disk is full") == true)

        let reader = try KafkaConsumer(configuration: configuration.consumer)
        let committed = try await reader.committed([KafkaTopicPartition(topic: topic, partition: 0)])
        try await reader.close()
        let durable = probe.durableKeys.withLock { $0 }.count
        #expect(durable == 4)
        #expect(committed.first?.offset ?? -1 <= 4, "offsets past the last durable outcome were committed")
    }

    @Test func aRecordRefusedAfterTheHandlerRanNeverRunsTheHandlerAgain() async throws {
        let topic = try TestCluster.uniqueTopic("fenced-record")
        let deadLetterTopic = try TestCluster.uniqueTopic("fenced-record-dlq")
        try await TestCluster.produce(ids: ["a"], to: topic)
        let probe = StoreProbe(InMemoryDeduplicationStore())
        let calls = Mutex(0)

        var configuration = runtimeConfiguration(topic: topic)
        configuration.failurePolicy = .deadLetter(topic: deadLetterTopic)
        let consumer = EffectivelyOnceConsumer(configuration: configuration, store: probe) { _, _ in
            calls.withLock { $0 += 1 }
            // Another consumer took the partition while the handler ran: the record is refused.
            probe.failure.withLock { $0 = DeduplicationStoreError(.fenced, "the partition moved") }
        }
        try await runUntil(consumer) {
            guard calls.withLock({ $0 }) > 0 else { return false }
            try? await Task.sleep(for: .milliseconds(500))
            return true
        }

        #expect(calls.withLock { $0 } == 1)
        #expect(consumer.metrics.snapshot().deadLettered == 0)
        #expect(consumer.metrics.snapshot().retries == 0)
    }

    @Test func slowHandlersHoldThePollBackAtTheBufferLimit() async throws {
        let topic = try TestCluster.uniqueTopic("backpressure", partitions: 4)
        let ids = (0..<3000).map { "order-\($0)" }
        try await TestCluster.produce(ids: ids, to: topic, partitions: 4)

        var configuration = runtimeConfiguration(topic: topic, partitions: 4)
        configuration.maxBufferedMessages = 200
        configuration.maxBufferedPerPartition = 25
        configuration.maxPollBatch = 50
        let ledger = EffectLedger()
        let mostInFlight = Mutex(0)
        let consumerBox = Mutex<EffectivelyOnceConsumer?>(nil)
        let consumer = EffectivelyOnceConsumer(configuration: configuration, store: InMemoryDeduplicationStore()) {
            message,
            _ in
            try await Task.sleep(for: .microseconds(500))
            let inFlight = consumerBox.withLock { $0?.metrics.snapshot().inFlight } ?? 0
            mostInFlight.withLock { $0 = max($0, inFlight) }
            ledger.apply(id(of: message))
        }
        consumerBox.withLock { $0 = consumer }
        let drained = try await runUntil(consumer) { consumer.metrics.snapshot().processed == ids.count }

        #expect(drained)
        #expect(ledger.effects.count == ids.count)
        #expect(ledger.duplicated.isEmpty)
        // Polls stop at the limit, and one poll adds at most a poll batch to what is buffered. A
        // wait for room that runs out pauses each partition holding more than its own limit, which
        // a poll batch can overshoot once.
        let most = mostInFlight.withLock { $0 }
        let heldBack = configuration.maxBufferedMessages - 1 + configuration.maxPollBatch
        let paused = 4 * (configuration.maxBufferedPerPartition + configuration.maxPollBatch)
        #expect(most > 0)
        #expect(most <= max(heldBack, paused))
    }

    @Test func aTombstoneIsHandledLikeAnyOtherMessage() async throws {
        let topic = try TestCluster.uniqueTopic("tombstone-runtime")
        let producer = try KafkaProducer(configuration: .init(bootstrapServers: TestCluster.shared.bootstrapServers))
        try await producer.send(KafkaProducerRecord(topic: topic, partition: 0, key: Array("k".utf8), value: nil))
        try await producer.close()
        let seen = Mutex<[Bool]>([])

        var configuration = runtimeConfiguration(topic: topic)
        configuration.keys = KeyDerivation([.recordKey])
        let consumer = EffectivelyOnceConsumer(configuration: configuration, store: InMemoryDeduplicationStore()) {
            message,
            _ in
            seen.withLock { $0.append(message.isTombstone) }
        }
        try await runUntil(consumer) { consumer.metrics.snapshot().processed == 1 }
        #expect(seen.withLock { $0 } == [true])
    }
}

struct TestFailure: Error, CustomStringConvertible {
    let description: String

    init(_ description: String) { self.description = description }
}
