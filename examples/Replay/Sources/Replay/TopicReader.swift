import KafkaOnce

/// Reads a whole topic without joining a consumer group.
enum TopicReader {
    /// Calls `body` with each poll batch of `topic`, from the oldest message the broker holds to
    /// the newest one at the time of the call.
    static func read(
        _ topic: String,
        bootstrapServers: String,
        _ body: ([KafkaMessage]) async throws -> Void
    ) async throws {
        let configuration = KafkaConsumerConfiguration(bootstrapServers: bootstrapServers, groupID: "replay-dry-run")
        let reader = try KafkaConsumer(configuration: configuration)
        let partitionCount = try await reader.metadata().partitionCounts[topic] ?? 0
        var ends: [KafkaTopicPartition: Int64] = [:]
        var starts: [KafkaTopicPartitionOffset] = []
        for number in 0..<Int32(partitionCount) {
            let partition = KafkaTopicPartition(topic: topic, partition: number)
            let (low, high) = try await reader.queryWatermarks(partition)
            guard high > low else { continue }
            ends[partition] = high
            starts.append(KafkaTopicPartitionOffset(topic: topic, partition: number, offset: low))
        }
        try await reader.assign(starts)

        let deadline = ContinuousClock.now + .seconds(30)
        while !ends.isEmpty && ContinuousClock.now < deadline {
            let polled = try await reader.poll(maxMessages: 500, timeout: .milliseconds(200))
            let batch = polled.filter { message in
                let partition = KafkaTopicPartition(topic: message.topic, partition: message.partition)
                guard let end = ends[partition], message.offset < end else { return false }
                if message.offset + 1 == end { ends[partition] = nil }
                return true
            }
            if !batch.isEmpty { try await body(batch) }
        }
        try await reader.close()
        guard ends.isEmpty else {
            throw InvoiceError(
                "could not read \(topic) to its end within 30 s; left: \(ends.keys.sorted { "\($0)" < "\($1)" })"
            )
        }
    }
}
