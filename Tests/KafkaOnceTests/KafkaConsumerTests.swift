import Foundation
import KafkaOnce
import KafkaOnceTesting
import Synchronization
import Testing

@Suite struct KafkaConsumerTests {
    let servers = TestCluster.shared.bootstrapServers

    @Test func aWrongPropertyNameFailsAtConstructionNamingIt() throws {
        var configuration = KafkaConsumerConfiguration(bootstrapServers: servers, groupID: "g")
        configuration.properties["fetch.wait.maximum.ms"] = "10"
        let error = #expect(throws: KafkaError.self) { try KafkaConsumer(configuration: configuration) }
        #expect(error?.code == .configuration)
        #expect(error?.message.contains("fetch.wait.maximum.ms") == true)
    }

    @Test func aWrongPropertyValueFailsAtConstructionNamingIt() throws {
        var configuration = KafkaConsumerConfiguration(bootstrapServers: servers, groupID: "g")
        configuration.properties["session.timeout.ms"] = "soon"
        let error = #expect(throws: KafkaError.self) { try KafkaConsumer(configuration: configuration) }
        #expect(error?.message.contains("session.timeout.ms") == true)
    }

    @Test func anUnreachableBrokerIsAClearErrorInBoundedTime() async throws {
        let consumer = try KafkaConsumer(configuration: .init(bootstrapServers: "127.0.0.1:1", groupID: "g"))
        let started = ContinuousClock.now
        let error = await #expect(throws: KafkaError.self) { try await consumer.metadata(timeout: .seconds(2)) }
        #expect(ContinuousClock.now - started < .seconds(10))
        #expect(error?.message.contains("127.0.0.1:1") == true)
        try await consumer.close()
    }

    @Test func aCooperativeStickyMemberClosedDuringItsFirstJoinWaitsForTheAssignmentInsteadOfAborting()
        async throws
    {
        // librdkafka 2.0 aborts when such a member is destroyed between the group's JoinGroup and
        // SyncGroup answers; the embedded broker holds the first join back about three seconds.
        let topic = try TestCluster.uniqueTopic("first-join")
        var configuration = KafkaConsumerConfiguration(
            bootstrapServers: servers,
            groupID: "first-join-\(UUID().uuidString.prefix(6))"
        )
        configuration.assignor = .cooperativeSticky
        let assignments = Mutex(0)
        let consumer = try KafkaConsumer(
            configuration: configuration,
            events: KafkaConsumerEvents(rebalance: { rebalance, _ in
                if rebalance.kind == .assigned { assignments.withLock { $0 += 1 } }
            })
        )
        try consumer.subscribe(topics: [topic])
        _ = try await consumer.poll(maxMessages: 1, timeout: .milliseconds(200))
        #expect(assignments.withLock { $0 } == 0, "the join was already over; the test proves nothing")

        try await consumer.close()
        #expect(assignments.withLock { $0 } == 1)
    }

    @Test func aConsumerReleasedWithoutCloseIsClosedOnAThreadOfItsOwnAndSaysSo() async throws {
        // Released in the same window as above: destroying the handle on the releasing thread would
        // block it while the member leaves, and could abort the process (librdkafka#4312).
        let topic = try TestCluster.uniqueTopic("released")
        var configuration = KafkaConsumerConfiguration(
            bootstrapServers: servers,
            groupID: "released-\(UUID().uuidString.prefix(6))"
        )
        configuration.assignor = .cooperativeSticky
        let records = RecordedLog()
        var consumer: KafkaConsumer? = try KafkaConsumer(
            configuration: configuration,
            logger: KafkaOnceLogger(label: "test", logLevel: .debug, handler: records)
        )
        try consumer?.subscribe(topics: [topic])
        _ = try await consumer?.poll(maxMessages: 1, timeout: .milliseconds(200))
        consumer = nil

        let closed = "consumer released without close() is closed"
        let done = await eventually { records.messages.contains(closed) }
        #expect(done, "logged: \(records.messages)")
        #expect(
            records.warnings == ["consumer released without close(): closing it on a thread of its own"],
            "a warning when released, and no other: \(records.warnings)"
        )
        // The system keeps the first 15 bytes of a thread's name: "kafka-once.close" reads so.
        #expect(records.threadNames(of: closed) == ["kafka-once.clos"])
    }

    @Test func aNewMemberStartsExactlyAfterTheCommittedOffsets() async throws {
        let topic = try TestCluster.uniqueTopic("commit")
        try await TestCluster.produce(ids: (0..<10).map { "m\($0)" }, to: topic)
        let partition = KafkaTopicPartition(topic: topic, partition: 0)
        let group = "commit-\(UUID().uuidString.prefix(6))"

        let first = try KafkaConsumer(configuration: .init(bootstrapServers: servers, groupID: group))
        try await first.assign([KafkaTopicPartitionOffset(topic: topic, partition: 0, offset: KafkaOffset.stored)])
        let firstBatch = try await pollUntil(first, count: 4)
        let head = Array(firstBatch.prefix(4))
        try await first.commit(head.nextOffsets)
        #expect(try await first.committed([partition]).first?.offset == 4)
        try await first.close()

        let second = try KafkaConsumer(configuration: .init(bootstrapServers: servers, groupID: group))
        try await second.assign([KafkaTopicPartitionOffset(topic: topic, partition: 0, offset: KafkaOffset.stored)])
        let rest = try await pollUntil(second, count: 6)
        try await second.close()
        #expect(rest.map(\.offset) == Array(4..<10))
    }

    @Test func anInjectedOffsetCommitErrorComesBackFromTheCommitCall() async throws {
        let cluster = try MockKafkaCluster()
        try cluster.createTopic("t", partitions: 1)
        let consumer = try KafkaConsumer(configuration: .init(bootstrapServers: cluster.bootstrapServers, groupID: "g"))
        try await consumer.assign([KafkaTopicPartitionOffset(topic: "t", partition: 0, offset: 0)])

        cluster.injectErrors(.offsetCommit, [.notCoordinator, .notCoordinator, .notCoordinator, .illegalGeneration])
        let error = await #expect(throws: KafkaError.self) {
            try await consumer.commit([KafkaTopicPartitionOffset(topic: "t", partition: 0, offset: 1)])
        }
        #expect(error?.code == .broker)
        cluster.clearErrors(.offsetCommit)
        try await consumer.close()
    }

    @Test func aTombstoneAndAnEmptyValueAreOrdinaryMessages() async throws {
        let topic = try TestCluster.uniqueTopic("tombstone")
        let producer = try KafkaProducer(configuration: .init(bootstrapServers: servers))
        try await producer.send([
            KafkaProducerRecord(topic: topic, partition: 0, key: [1], value: nil),
            KafkaProducerRecord(topic: topic, partition: 0, key: nil, value: []),
        ])
        try await producer.close()

        let consumer = try KafkaConsumer(configuration: .init(bootstrapServers: servers, groupID: "g"))
        try await consumer.assign([KafkaTopicPartitionOffset(topic: topic, partition: 0, offset: 0)])
        let messages = try await pollUntil(consumer, count: 2)
        try await consumer.close()
        #expect(messages.map(\.isTombstone) == [true, false])
    }
}

/// Keeps the records logged to it, in order, with the name of the thread that logged each.
private final class RecordedLog: KafkaOnceLogHandler {
    private let recorded = Mutex<[(record: KafkaOnceLogRecord, thread: String)]>([])

    var messages: [String] { recorded.withLock { $0.map(\.record.message) } }

    var warnings: [String] {
        recorded.withLock { $0.filter { $0.record.level >= .warning }.map(\.record.message) }
    }

    func threadNames(of message: String) -> [String] {
        recorded.withLock { $0.filter { $0.record.message == message }.map(\.thread) }
    }

    func log(_ record: KafkaOnceLogRecord) {
        let thread = Thread.current.name ?? ""
        recorded.withLock { $0.append((record, thread)) }
    }
}
