import Foundation
import KafkaOnce
import KafkaOnceTesting

/// The embedded broker and the benchmark topic, filled once before any mode runs.
///
/// Every message carries a unique `idempotency-key` header (`m-0`, `m-1`, …) and goes to
/// partition `index % partitions`, so the partitions hold equal shares.
final class BenchTopic: Sendable {
    let cluster: MockKafkaCluster
    let name: String
    let plan: BenchPlan

    /// Records produced per send call: enough to fill librdkafka's batches, few enough to keep
    /// the parent's memory small.
    private static let chunkSize = 50_000

    /// Starts the broker and creates the topic, empty.
    init(plan: BenchPlan) throws {
        self.plan = plan
        self.cluster = try MockKafkaCluster()
        self.name = "kafka-once-bench-\(UUID().uuidString.prefix(8).lowercased())"
        try cluster.createTopic(name, partitions: plan.partitions)
    }

    var bootstrapServers: String { cluster.bootstrapServers }

    /// Produces every message, in index order, and waits for the broker's acknowledgements.
    func fill() async throws {
        var configuration = KafkaProducerConfiguration(bootstrapServers: bootstrapServers)
        configuration.properties["queue.buffering.max.messages"] = String(Self.chunkSize * 2)
        let producer = try KafkaProducer(configuration: configuration)

        let payload = Self.payload(bytes: plan.payloadBytes)
        var start = 0
        while start < plan.messages {
            let end = min(start + Self.chunkSize, plan.messages)
            let records = (start..<end).map { index in
                KafkaProducerRecord(
                    topic: name,
                    partition: Int32(index % plan.partitions),
                    value: payload,
                    headers: [KafkaHeader(name: BenchRetention.keyHeader, text: BenchRetention.key(index))]
                )
            }
            try await producer.send(records)
            start = end
        }
        try await producer.close()
    }

    /// Checks that every partition still holds every message produced to it.
    ///
    /// - Throws: ``CommandFailure`` naming the partition and the numbers when the broker dropped
    ///   messages to its retention, or holds another count than was produced.
    func verify() async throws {
        let consumer = try KafkaConsumer(
            configuration: KafkaConsumerConfiguration(bootstrapServers: bootstrapServers, groupID: "\(name)-check")
        )
        do {
            for partition in 0..<plan.partitions {
                try await verify(partition, with: consumer)
            }
        } catch {
            try? await consumer.close()
            throw error
        }
        try await consumer.close()
    }

    private func verify(_ partition: Int, with consumer: KafkaConsumer) async throws {
        let topicPartition = KafkaTopicPartition(topic: name, partition: Int32(partition))
        let (low, high) = try await consumer.queryWatermarks(topicPartition)
        let expected = plan.messages(inPartition: partition)
        if low > 0 {
            throw CommandFailure(
                "the embedded broker dropped the first \(low) of \(expected) messages of \(topicPartition) to its "
                    + "retention of about 5 MB per partition; use more --partitions or fewer --messages"
            )
        }
        if high != Int64(expected) {
            throw CommandFailure(
                "\(topicPartition) holds \(high) messages but \(expected) were produced to it; the benchmark "
                    + "cannot compare modes that read different topics"
            )
        }
    }

    /// `payloadBytes` bytes of printable filler.
    private static func payload(bytes: Int) -> [UInt8] {
        let alphabet = Array("abcdefghijklmnopqrstuvwxyz0123456789".utf8)
        return (0..<bytes).map { alphabet[$0 % alphabet.count] }
    }
}
