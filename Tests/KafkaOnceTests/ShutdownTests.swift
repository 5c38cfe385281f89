import Foundation
import KafkaOnce
import KafkaOnceTesting
import Testing

@Suite struct ShutdownTests {
    @Test func sigtermDrainsRecordsCommitsAndLeaves() async throws {
        let topic = try TestCluster.uniqueTopic("sigterm")
        try await TestCluster.produce(ids: (0..<30).map { "m\($0)" }, to: topic)
        let ledger = EffectLedger()

        var configuration = runtimeConfiguration(topic: topic)
        configuration.handlesSignals = true
        configuration.commitInterval = .seconds(60)
        let consumer = EffectivelyOnceConsumer(configuration: configuration, store: InMemoryDeduplicationStore()) {
            message,
            _ in
            ledger.apply(id(of: message))
        }
        let running = Task { try await consumer.run() }
        #expect(await eventually { ledger.total == 30 })

        // The consumer's own signal handling turns SIGTERM into a graceful stop.
        kill(getpid(), SIGTERM)
        try await running.value

        let reader = try KafkaConsumer(configuration: configuration.consumer)
        let committed = try await reader.committed([KafkaTopicPartition(topic: topic, partition: 0)])
        try await reader.close()
        #expect(committed.first?.offset == 30, "the final commit on shutdown did not happen")
    }
}
