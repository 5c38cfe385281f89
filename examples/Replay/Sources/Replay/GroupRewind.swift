import KafkaOnce

/// Moves a consumer group's committed offsets.
enum GroupRewind {
    /// Commits, as the position of the group that `configuration` names, the oldest offset the
    /// broker holds for every partition of `topic`: the group's next run starts from the beginning.
    ///
    /// The commit is made by a member of the group that was assigned every partition: brokers
    /// refuse commits from outside a group that has members, and the embedded broker refuses them
    /// from outside any group it knows.
    ///
    /// - Important: Stop every member of the group first. A running member would keep some
    ///   partitions (and the rewind then fails), or commit its own positions over the rewind.
    static func toBeginning(of topic: String, group configuration: KafkaConsumerConfiguration) async throws {
        var configuration = configuration
        // librdkafka before 2.3 aborts when a cooperative-sticky consumer is destroyed before its
        // first assignment (librdkafka issue 4312); this short-lived member uses the eager assignor.
        configuration.assignor = .range
        let consumer = try KafkaConsumer(configuration: configuration)
        let partitions = try await consumer.metadata().partitionCounts[topic] ?? 0

        try consumer.subscribe(topics: [topic])
        let deadline = ContinuousClock.now + .seconds(30)
        while try consumer.assignment().count < partitions && ContinuousClock.now < deadline {
            // The assignment arrives during a poll; the messages polled meanwhile are not needed.
            _ = try await consumer.poll(maxMessages: 100, timeout: .milliseconds(100))
        }
        guard try consumer.assignment().count == partitions else {
            try await consumer.close()
            throw InvoiceError("group \(configuration.groupID) has other active members; stop them, then rewind")
        }

        var offsets: [KafkaTopicPartitionOffset] = []
        for number in 0..<Int32(partitions) {
            let partition = KafkaTopicPartition(topic: topic, partition: number)
            let (low, _) = try await consumer.queryWatermarks(partition)
            offsets.append(KafkaTopicPartitionOffset(topic: topic, partition: number, offset: low))
        }
        try await consumer.commit(offsets)
        try await consumer.close()
    }
}
