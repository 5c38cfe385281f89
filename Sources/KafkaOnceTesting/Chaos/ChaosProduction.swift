import KafkaOnce

/// The messages a scenario produced: the ground truth of the check.
struct ChaosProduction: Sendable {
    /// Ids whose every produce the broker acknowledged.
    let acknowledged: Set<String>
    /// Records produced, duplicates included.
    let produced: Int
    /// For each acknowledged position, the idempotency key the runtime derives for it.
    let keyAt: [KafkaTopicPartitionOffset: String]
    /// The key of each acknowledged id.
    let keyOf: [String: String]

    /// Produces `messages` ids, a share of them twice (later in the stream, on a random partition).
    static func produce(
        to cluster: MockKafkaCluster,
        topic: String,
        group: String,
        messages: Int,
        idPrefix: String,
        partitions: Int,
        duplicateShare: Double,
        random: inout SeededRandom
    ) async throws -> ChaosProduction {
        let ids = (0..<messages).map { "\(idPrefix)-\($0)" }
        var order = ids
        for id in ids where Double.random(in: 0..<1, using: &random) < duplicateShare {
            order.insert(id, at: Int.random(in: 0...order.count, using: &random))
        }
        let records = order.map { id in
            KafkaProducerRecord(
                topic: topic,
                partition: Int32.random(in: 0..<Int32(partitions), using: &random),
                key: Array(id.utf8),
                value: Array("{\"order\":\"\(id)\",\"amount\":\(id.count * 7)}".utf8),
                headers: [
                    KafkaHeader(name: ChaosLedger.idHeader, text: id), KafkaHeader(name: "idempotency-key", text: id),
                ]
            )
        }

        var configuration = KafkaProducerConfiguration(bootstrapServers: cluster.bootstrapServers)
        configuration.linger = .milliseconds(2)
        let producer = try KafkaProducer(configuration: configuration)
        let results = await producer.deliver(records)
        try await producer.close()

        var acknowledged = Set(ids)
        var keyAt: [KafkaTopicPartitionOffset: String] = [:]
        for (id, result) in zip(order, results) {
            switch result {
            case .success(let position): keyAt[position] = "\(group)/id:\(id)"
            case .failure: acknowledged.remove(id)
            }
        }
        return ChaosProduction(
            acknowledged: acknowledged,
            produced: records.count,
            keyAt: keyAt,
            keyOf: Dictionary(uniqueKeysWithValues: ids.map { ($0, "\(group)/id:\($0)") })
        )
    }

    /// The share of acknowledged ids whose outcome is durable.
    func progress(of run: ChaosRun) -> Double {
        guard !acknowledged.isEmpty else { return 1 }
        return Double(run.store.durableKeys.withLock { $0.count }) / Double(acknowledged.count)
    }
}
