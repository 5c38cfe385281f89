import Foundation
import KafkaOnce
import KafkaOncePostgres
import Testing

/// Claim and finish throughput, measured when asked for: build in release mode and run
///
/// ```
/// KAFKA_ONCE_POSTGRES_URL=… KAFKA_ONCE_POSTGRES_BENCHMARK=1 \
///     swift test -c release --filter PostgresThroughputTests
/// ```
@Suite(
    .serialized,
    .postgresServer,
    .enabled(
        if: ProcessInfo.processInfo.environment["KAFKA_ONCE_POSTGRES_BENCHMARK"] != nil,
        "set KAFKA_ONCE_POSTGRES_BENCHMARK=1 to measure claim and finish throughput"
    )
)
struct PostgresThroughputTests {
    static let batchSize = 1000
    static let batches = 50

    @Test(arguments: [1, 4])
    func claimAndFinishBatchesOfAThousand(partitionCount: Int) async throws {
        let batch = TestBatch()
        let store = try await PostgresTestServer.makeStore()
        let partitions = (0..<Int32(partitionCount)).map { batch.partition($0) }
        let epochs = try await store.acquire(partitions, owner: "benchmark")
        let clock = ContinuousClock()

        let elapsed = try await clock.measure {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for partition in partitions {
                    let epoch = try #require(epochs[partition])
                    let fence = PartitionFence(partition: partition, owner: "benchmark", epoch: epoch)
                    group.addTask { try await Self.run(fence, batch: batch, on: store) }
                }
                try await group.waitForAll()
            }
        }

        let messages = Double(partitionCount * Self.batches * Self.batchSize)
        let rate = Int(messages / elapsed.timeInterval)
        print("PostgreSQL claim+finish, \(partitionCount) partitions, batches of 1000: \(rate) messages/s")
        #expect(rate > 0)
        try await store.close()
    }

    /// Claims and finishes the partition's batches one after the other, as the runtime does.
    private static func run(
        _ fence: PartitionFence,
        batch: TestBatch,
        on store: PostgresDeduplicationStore
    ) async throws {
        let partition = fence.partition.partition
        for number in 0..<batches {
            let offsets = (number * batchSize)..<((number + 1) * batchSize)
            let names = offsets.map { "p\(partition)-\($0)" }
            let requests = zip(names, offsets).map { batch.request($0, offset: Int64($1), partition: partition) }
            let outcomes = try await store.claim(requests, fence: fence, leaseDuration: .seconds(60))
            #expect(outcomes.count == batchSize)
            try await store.finish(
                zip(names, offsets).map { batch.completed($0, offset: Int64($1), partition: partition) },
                fence: fence
            )
        }
    }
}

extension Duration {
    fileprivate var timeInterval: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}
