import Foundation
import KafkaOnce
import KafkaOnceTesting
import Synchronization
import Testing

/// What the members of one group saw, in the order it happened.
final class GroupLog: Sendable {
    enum Event: Sendable {
        case delivered(member: String, KafkaTopicPartitionOffset)
        /// Partitions taken away; `stillAssigned` says whether the hook saw them still assigned.
        case released(member: String, [KafkaTopicPartition], stillAssigned: Bool)
    }

    let events = Mutex<[Event]>([])

    func append(_ event: Event) {
        events.withLock { $0.append(event) }
    }

    var delivered: [KafkaTopicPartitionOffset] {
        events.withLock { events in
            events.compactMap { if case .delivered(_, let position) = $0 { position } else { nil } }
        }
    }

    /// Messages delivered to a second member while the first still owned their partition: a
    /// redelivery is allowed only after the partition left its previous owner.
    var deliveriesWithinOneGeneration: [KafkaTopicPartitionOffset] {
        var owner: [KafkaTopicPartitionOffset: String] = [:]
        var violations: [KafkaTopicPartitionOffset] = []
        for event in events.withLock({ $0 }) {
            switch event {
            case .delivered(let member, let position):
                if owner[position] != nil { violations.append(position) }
                owner[position] = member
            case .released(let member, let partitions, _):
                let released = Set(partitions)
                owner = owner.filter { !($0.value == member && released.contains($0.key.topicPartition)) }
            }
        }
        return violations
    }
}

/// One member of a group that commits what it consumed before its partitions go.
final class Member: Sendable {
    let name: String
    let consumer: KafkaConsumer
    let log: GroupLog

    init(name: String, group: String, assignor: KafkaPartitionAssignor, log: GroupLog) throws {
        self.name = name
        self.log = log
        var configuration = KafkaConsumerConfiguration(
            bootstrapServers: TestCluster.shared.bootstrapServers,
            groupID: group
        )
        configuration.assignor = assignor
        configuration.sessionTimeout = .seconds(6)
        consumer = try KafkaConsumer(
            configuration: configuration,
            events: KafkaConsumerEvents(rebalance: { rebalance, consumer in
                guard rebalance.kind != .assigned else { return }
                let assigned = Set((try? consumer.assignment()) ?? [])
                log.append(
                    .released(
                        member: name,
                        rebalance.partitions,
                        stillAssigned: rebalance.partitions.allSatisfy(assigned.contains)
                    )
                )
                // Commit what was consumed from the leaving partitions while they are still ours.
                let leaving = Set(rebalance.partitions)
                let offsets = log.delivered.filter { leaving.contains($0.topicPartition) }
                    .map { KafkaMessage(topic: $0.topic, partition: $0.partition, offset: $0.offset) }
                    .nextOffsets
                try? consumer.commitSynchronously(offsets)
            })
        )
    }

    /// Polls once and commits what came; a commit refused during a rebalance is expected.
    func pollOnce(maxMessages: Int = 20) async throws {
        let messages = try await consumer.poll(maxMessages: maxMessages, timeout: .milliseconds(100))
        for message in messages {
            log.append(.delivered(member: name, message.coordinates))
        }
        try? await consumer.commit(messages.nextOffsets)
    }
}

/// Group membership through the embedded broker. Each join costs the mock's initial delay of
/// about three seconds, so these tests are the slow ones of the suite.
@Suite struct RebalanceTests {
    @Test(arguments: [KafkaPartitionAssignor.range, .cooperativeSticky])
    func aMemberJoiningMidStreamGetsEachMessageOncePerGenerationAfterTheHookRan(
        assignor: KafkaPartitionAssignor
    ) async throws {
        let topic = try TestCluster.uniqueTopic("join", partitions: 4)
        let ids = (0..<400).map { "m\($0)" }
        try await TestCluster.produce(ids: ids, to: topic, partitions: 4)
        let group = "join-\(UUID().uuidString.prefix(6))"
        let log = GroupLog()

        let first = try Member(name: "first", group: group, assignor: assignor, log: log)
        try first.consumer.subscribe(topics: [topic])
        _ = await eventually {
            try? await first.pollOnce()
            return log.delivered.count >= 60
        }

        let second = try Member(name: "second", group: group, assignor: assignor, log: log)
        try second.consumer.subscribe(topics: [topic])
        var secondJoined = false
        let allDelivered = await eventually(within: .seconds(40)) {
            // The first member reads slowly until the second has joined, so the stream is still
            // going when the group rebalances.
            secondJoined = secondJoined || !((try? second.consumer.assignment()) ?? []).isEmpty
            try? await first.pollOnce(maxMessages: secondJoined ? 20 : 2)
            try? await second.pollOnce()
            return Set(log.delivered).count == ids.count
        }
        try await first.consumer.close()
        try await second.consumer.close()

        #expect(allDelivered)
        #expect(secondJoined)
        #expect(log.deliveriesWithinOneGeneration.isEmpty, "a message went to two members of one generation")
        let releases = log.events.withLock { $0 }.compactMap {
            if case .released(_, _, let stillAssigned) = $0 { stillAssigned } else { nil }
        }
        #expect(!releases.isEmpty)
        #expect(releases.allSatisfy { $0 }, "the hook ran after the partitions were already gone")
    }
}
