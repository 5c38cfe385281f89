import Foundation
@_spi(Testing) import KafkaOnce
import KafkaOnceTesting
import Testing

@Suite struct RuntimeTests {
    /// A configuration that reads `topic`'s partitions directly: no group join delay.
    func configuration(
        topic: String,
        partitions: Int = 1,
        group: String = "g-\(UUID().uuidString.prefix(6))"
    )
        -> EffectivelyOnceConfiguration
    {
        var configuration = EffectivelyOnceConfiguration(
            bootstrapServers: TestCluster.shared.bootstrapServers,
            groupID: group,
            topics: [topic]
        )
        configuration.partitions = (0..<partitions).map { KafkaTopicPartition(topic: topic, partition: Int32($0)) }
        configuration.handlesSignals = false
        configuration.commitInterval = .milliseconds(100)
        configuration.retry = RetryPolicy(
            maxAttempts: 3,
            initialBackoff: .milliseconds(10),
            maxBackoff: .milliseconds(50)
        )
        return configuration
    }

    @Test func duplicateProducesOfOneIDHaveOneEffect() async throws {
        let topic = try TestCluster.uniqueTopic("dup", partitions: 2)
        let ids = (0..<100).map { "order-\($0)" }
        try await TestCluster.produce(ids: ids + ids.prefix(30), to: topic, partitions: 2)

        let ledger = EffectLedger()
        let consumer = EffectivelyOnceConsumer(
            configuration: configuration(topic: topic, partitions: 2),
            store: InMemoryDeduplicationStore()
        ) { message, _ in
            ledger.apply(message.header("idempotency-key")!.text!)
        }
        let running = Task { try await consumer.run() }
        let drained = await eventually { consumer.metrics.snapshot().duplicatesSkipped == 30 }
        consumer.shutdown()
        try await running.value

        #expect(drained)
        #expect(ledger.effects.count == 100)
        #expect(ledger.duplicated.isEmpty)
        #expect(consumer.metrics.snapshot().processed == 100)
    }
}
