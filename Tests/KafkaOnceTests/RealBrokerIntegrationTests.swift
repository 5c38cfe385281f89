import Foundation
import KafkaOnce
import Synchronization
import Testing

/// The brokers of a real Kafka cluster, from `KAFKA_BOOTSTRAP_SERVERS`; `nil` skips the suite.
private let realBrokerServers: String? = {
    let servers = ProcessInfo.processInfo.environment["KAFKA_BOOTSTRAP_SERVERS"] ?? ""
    return servers.isEmpty ? nil : servers
}()

/// The Kafka layer and the runtime against a real broker, such as the one compose.yaml starts:
///
/// ```sh
/// docker compose up -d --wait
/// KAFKA_BOOTSTRAP_SERVERS=localhost:9092 swift test --filter RealBrokerIntegrationTests
/// ```
///
/// - Important: Each test makes topics of its own, named uniquely, by producing to them: the
///   broker must create topics on first use (`auto.create.topics.enable`, on in compose.yaml,
///   which also gives them three partitions). The tests never delete their topics.
@Suite(.enabled(if: realBrokerServers != nil, "set KAFKA_BOOTSTRAP_SERVERS to run against a real broker"))
struct RealBrokerIntegrationTests {
    let servers = realBrokerServers ?? ""

    @Test func keysValuesHeadersAndTombstonesMakeTheRoundTripUnchanged() async throws {
        let topic = Self.uniqueName("round-trip")
        try await produce([
            KafkaProducerRecord(
                topic: topic,
                partition: 0,
                key: Array("order-1".utf8),
                value: Array("{\"amount\":12}".utf8),
                headers: [KafkaHeader(name: "idempotency-key", text: "id-1"), KafkaHeader(name: "empty", value: nil)]
            ),
            KafkaProducerRecord(topic: topic, partition: 0, key: Array("order-1".utf8), value: nil),
            KafkaProducerRecord(topic: topic, partition: 0, key: nil, value: []),
        ])

        let messages = try await read(KafkaTopicPartition(topic: topic, partition: 0), count: 3)

        #expect(messages.map(\.offset) == [0, 1, 2])
        #expect(messages.map(\.keyText) == ["order-1", "order-1", nil])
        #expect(messages[0].valueText == "{\"amount\":12}")
        #expect(messages[0].header("idempotency-key")?.text == "id-1")
        #expect(messages[0].headers.count == 2)
        #expect(messages[0].header("empty")?.value == nil)
        #expect(messages[1].isTombstone)
        #expect(messages[2].value == [] && !messages[2].isTombstone)
        #expect(messages.allSatisfy { $0.timestamp != nil })
    }

    @Test func aGroupMemberAppliesEachIDOnceDespiteDuplicateProducesAndCommitsToTheEnd() async throws {
        let topic = Self.uniqueName("duplicates")
        let ids = (0..<60).map { "order-\($0)" }
        let resent = Array(ids.prefix(20))
        try await produce((ids + resent).map { Self.record(id: $0, topic: topic) })

        let effects = RealBrokerEffects()
        let configuration = makeConfiguration(topic: topic)
        let consumer = EffectivelyOnceConsumer(configuration: configuration, store: InMemoryDeduplicationStore()) {
            message,
            _ in
            effects.apply(message.header("idempotency-key")?.text ?? "\(message.coordinates)")
        }
        let finished = try await Self.run(consumer) { metrics in
            metrics.processed == ids.count && metrics.duplicatesSkipped == resent.count
        }

        #expect(finished, "\(consumer.metrics.snapshot())")
        #expect(effects.counts.count == ids.count)
        #expect(
            effects.counts.values.allSatisfy { $0 == 1 },
            "applied twice: \(effects.counts.filter { $0.value > 1 })"
        )

        // After a graceful stop, the group's committed offsets are every partition's end.
        let observer = try KafkaConsumer(configuration: configuration.consumer)
        let committed = try await observer.committed(try await partitionList(of: topic, using: observer))
        for position in committed {
            let (_, high) = try await observer.queryWatermarks(position.topicPartition)
            #expect(position.offset == high, "\(position.topicPartition) committed \(position.offset) of \(high)")
        }
        try await observer.close()
    }

    @Test func aMessageThatKeepsFailingIsDeadLetteredWithItsOriginAndTheStreamMovesOn() async throws {
        let topic = Self.uniqueName("poison")
        let deadLetterTopic = Self.uniqueName("poison-dead-letters")
        try await produce(["ok-1", "poison", "ok-2"].map { Self.record(id: $0, topic: topic, partition: 0) })

        let effects = RealBrokerEffects()
        let store = InMemoryDeduplicationStore()
        var configuration = makeConfiguration(topic: topic)
        configuration.partitions = [KafkaTopicPartition(topic: topic, partition: 0)]
        configuration.failurePolicy = .deadLetter(topic: deadLetterTopic)
        let consumer = EffectivelyOnceConsumer(configuration: configuration, store: store) { message, _ in
            let id = message.header("idempotency-key")?.text ?? ""
            if id == "poison" { throw RealBrokerFailure("cannot parse order \(id)") }
            effects.apply(id)
        }
        let finished = try await Self.run(consumer) { $0.processed == 2 && $0.deadLettered == 1 }

        #expect(finished, "\(consumer.metrics.snapshot())")
        #expect(effects.counts == ["ok-1": 1, "ok-2": 1])
        let key = "\(configuration.consumer.groupID)/id:poison"
        let record = try await store.record(for: key)
        #expect(record?.state == .failed)
        #expect(record?.attempts == 2)

        let letters = try await readAll(of: deadLetterTopic, count: 1)
        let letter = try #require(letters.first)
        #expect(letter.valueText == "payload-poison")
        #expect(letter.header("idempotency-key")?.text == "poison")
        #expect(letter.header("kafka-once-origin-topic")?.text == topic)
        #expect(letter.header("kafka-once-origin-partition")?.text == "0")
        #expect(letter.header("kafka-once-origin-offset")?.text == "1")
        #expect(letter.header("kafka-once-attempts")?.text == "2")
        #expect(letter.header("kafka-once-error")?.text?.contains("cannot parse order poison") == true)
        #expect(letter.header("kafka-once-idempotency-key")?.text == key)
    }

    // MARK: - Support

    /// A name no other run uses, for topics and groups.
    static func uniqueName(_ prefix: String) -> String {
        "kafka-once-it-\(prefix)-\(UUID().uuidString.prefix(8).lowercased())"
    }

    /// A record carrying `id` in its key and `idempotency-key` header, with `payload-ID` as value.
    static func record(id: String, topic: String, partition: Int32? = nil) -> KafkaProducerRecord {
        KafkaProducerRecord(
            topic: topic,
            partition: partition,
            key: Array(id.utf8),
            value: Array("payload-\(id)".utf8),
            headers: [KafkaHeader(name: "idempotency-key", text: id)]
        )
    }

    /// A consumer subscribing to `topic` in a group of its own, with short intervals and waits.
    func makeConfiguration(topic: String) -> EffectivelyOnceConfiguration {
        var configuration = EffectivelyOnceConfiguration(
            bootstrapServers: servers,
            groupID: Self.uniqueName("group"),
            topics: [topic]
        )
        configuration.handlesSignals = false
        configuration.commitInterval = .milliseconds(200)
        configuration.consumer.sessionTimeout = .seconds(10)
        configuration.retry = RetryPolicy(
            maxAttempts: 2,
            initialBackoff: .milliseconds(20),
            maxBackoff: .milliseconds(50)
        )
        return configuration
    }

    /// Produces `records`, creating their topics on first use, and waits for every acknowledgement.
    func produce(_ records: [KafkaProducerRecord]) async throws {
        let producer = try KafkaProducer(configuration: KafkaProducerConfiguration(bootstrapServers: servers))
        try await producer.send(records)
        try await producer.close()
    }

    /// Runs `consumer` until its metrics satisfy `isDone` or 60 s pass, then stops it gracefully.
    ///
    /// - Returns: Whether `isDone` held.
    static func run(
        _ consumer: EffectivelyOnceConsumer,
        until isDone: @escaping @Sendable (EffectivelyOnceMetrics.Snapshot) -> Bool
    ) async throws -> Bool {
        let running = Task { try await consumer.run() }
        let deadline = ContinuousClock.now + .seconds(60)
        while !isDone(consumer.metrics.snapshot()) && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(50))
        }
        consumer.shutdown()
        try await running.value
        return isDone(consumer.metrics.snapshot())
    }

    func partitionList(of topic: String, using consumer: KafkaConsumer) async throws -> [KafkaTopicPartition] {
        let count = try await consumer.metadata().partitionCounts[topic] ?? 0
        return (0..<Int32(count)).map { KafkaTopicPartition(topic: topic, partition: $0) }
    }

    /// The first `count` records of one partition, read without a group.
    func read(_ partition: KafkaTopicPartition, count: Int) async throws -> [KafkaMessage] {
        try await read([partition], count: count)
    }

    /// The first `count` records of every partition of `topic` together.
    func readAll(of topic: String, count: Int) async throws -> [KafkaMessage] {
        let probe = try KafkaConsumer(
            configuration: KafkaConsumerConfiguration(bootstrapServers: servers, groupID: Self.uniqueName("reader"))
        )
        let partitions = try await partitionList(of: topic, using: probe)
        try await probe.close()
        return try await read(partitions, count: count)
    }

    private func read(_ partitions: [KafkaTopicPartition], count: Int) async throws -> [KafkaMessage] {
        let reader = try KafkaConsumer(
            configuration: KafkaConsumerConfiguration(bootstrapServers: servers, groupID: Self.uniqueName("reader"))
        )
        try await reader.assign(
            partitions.map { KafkaTopicPartitionOffset(topic: $0.topic, partition: $0.partition, offset: 0) }
        )
        var messages: [KafkaMessage] = []
        let deadline = ContinuousClock.now + .seconds(30)
        while messages.count < count && ContinuousClock.now < deadline {
            messages += try await reader.poll(maxMessages: count - messages.count, timeout: .milliseconds(200))
        }
        try await reader.close()
        return messages
    }
}

/// Effects per id, counted as a downstream system would see them.
private final class RealBrokerEffects: Sendable {
    private let state = Mutex<[String: Int]>([:])

    func apply(_ id: String) {
        state.withLock { $0[id, default: 0] += 1 }
    }

    var counts: [String: Int] { state.withLock { $0 } }
}

/// A handler failure, for the dead-letter test.
private struct RealBrokerFailure: Error, CustomStringConvertible {
    let description: String

    init(_ description: String) {
        self.description = description
    }
}
