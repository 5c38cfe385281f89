import KafkaOnce
import Synchronization

/// Commits a replay's offsets as a member of the group.
///
/// Joining first has two uses: a broker may refuse commits from outside a group that has had
/// members, and an assignment that lacks some partitions proves that other members are active,
/// in which case nothing is committed.
enum GroupRewind {
    static func commit(
        _ targets: [KafkaTopicPartitionOffset],
        topic: String,
        group: String,
        servers: String
    ) async throws {
        let assigned = Mutex<Set<KafkaTopicPartition>>([])
        var configuration = KafkaConsumerConfiguration(bootstrapServers: servers, groupID: group)
        configuration.clientID = "kafka-once-replay"
        // Short, so that if leaving the group is lost the member it left behind expires quickly.
        configuration.sessionTimeout = .seconds(6)
        let consumer = try KafkaConsumer(
            configuration: configuration,
            events: KafkaConsumerEvents(rebalance: { rebalance, _ in
                if rebalance.kind == .assigned { assigned.withLock { $0.formUnion(rebalance.partitions) } }
            })
        )
        try consumer.subscribe(topics: [topic])

        let deadline = ContinuousClock.now + .seconds(30)
        while assigned.withLock({ $0.isEmpty }) && ContinuousClock.now < deadline {
            _ = try await consumer.poll(maxMessages: 1, timeout: .milliseconds(200))
        }
        let partitions = Set(targets.map(\.topicPartition))
        let missing = partitions.subtracting(assigned.withLock { $0 })
        guard missing.isEmpty else {
            try await consumer.close()
            throw CommandFailure(
                "group '\(group)' has other active members (they hold \(missing.count) partition(s)); "
                    + "stop its consumers, then replay"
            )
        }
        try await consumer.commit(targets)
        try await consumer.close()
    }
}
