import Foundation
import KafkaOnce

/// The `raw` mode: our Kafka layer's poll loop on a thread of its own, counting messages.
///
/// It does what the runtime does with Kafka (a consumer with the same settings, a metadata check,
/// an assignment of every partition from the group's committed offsets, which a fresh group
/// resolves to the beginning, polls of up to 1,000 messages copied into Swift values) and
/// nothing else, so it is the limit the runtime is compared with.
enum BenchRawLoop {
    /// The most messages taken from one poll: the runtime's default
    /// ``EffectivelyOnceConfiguration/maxPollBatch``.
    static let maxPollBatch = 1000

    static func measure(_ assignment: BenchAssignment) async throws -> BenchMeasurement {
        let started = ContinuousClock.now
        let startedProcessorSeconds = BenchResourceUsage.processorSeconds()
        var configuration = KafkaConsumerConfiguration(
            bootstrapServers: assignment.bootstrapServers,
            groupID: assignment.groupID
        )
        configuration.properties = assignment.consumerProperties
        configuration.fetchWakeupInterval = assignment.fetchWakeupInterval
        let consumer = try KafkaConsumer(configuration: configuration)
        _ = try await consumer.metadata(timeout: .seconds(10))
        try await consumer.assign(
            assignment.topicPartitions.map {
                KafkaTopicPartitionOffset(topic: $0.topic, partition: $0.partition, offset: KafkaOffset.stored)
            }
        )

        let (consumed, finished) = try await onOwnThread {
            try count(consumer, upTo: assignment.messages, stallTimeout: .seconds(assignment.stallSeconds))
        }
        let processorSeconds = BenchResourceUsage.processorSeconds() - startedProcessorSeconds
        try await consumer.close()

        return BenchMeasurement(
            mode: .raw,
            consumed: consumed,
            seconds: (finished - started).seconds,
            processorSeconds: processorSeconds,
            peakResidentBytes: BenchResourceUsage.peakResidentBytes()
        )
    }

    /// Polls until `target` messages arrived or none arrived for `stallTimeout`.
    ///
    /// - Returns: How many arrived, and when the last one did.
    private static func count(
        _ consumer: KafkaConsumer,
        upTo target: Int,
        stallTimeout: Duration
    ) throws -> (Int, ContinuousClock.Instant) {
        var consumed = 0
        var lastArrival = ContinuousClock.now
        while consumed < target {
            let messages = try consumer.pollSynchronously(maxMessages: maxPollBatch, timeout: .milliseconds(100))
            if messages.isEmpty {
                if ContinuousClock.now - lastArrival >= stallTimeout { break }
                continue
            }
            consumed += messages.count
            lastArrival = ContinuousClock.now
        }
        return (consumed, lastArrival)
    }

    /// Runs a blocking `body` on a new thread, so the poll loop never occupies the cooperative pool.
    private static func onOwnThread<Value: Sendable>(
        _ body: @escaping @Sendable () throws -> Value
    ) async throws -> Value {
        try await withCheckedThrowingContinuation { continuation in
            startThread(named: "kafka-once.bench.raw") { continuation.resume(with: Result { try body() }) }
        }
    }
}
