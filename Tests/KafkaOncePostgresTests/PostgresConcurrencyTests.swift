import KafkaOnce
import KafkaOncePostgres
import Testing

/// Several consumer instances on one database, racing for the same keys.
@Suite(.postgresServer) struct PostgresConcurrencyTests {
    @Test func concurrentClaimsFromTwoInstancesGrantEachKeyOnce() async throws {
        let batch = TestBatch()
        let first = try await PostgresTestServer.makeStore()
        let second = try await PostgresTestServer.makeStore()
        let firstFence = try await batch.acquire(0, owner: "consumer-a", on: first)
        let secondFence = try await batch.acquire(1, owner: "consumer-b", on: second)

        // The same keys reach both partitions (a duplicate produce), in opposite orders.
        for round in 0..<5 {
            let names = (0..<200).map { "round\(round)-key\($0)" }
            async let fromFirst = first.claim(
                names.map { batch.request($0, partition: 0) },
                fence: firstFence,
                leaseDuration: .seconds(60)
            )
            async let fromSecond = second.claim(
                names.reversed().map { batch.request($0, partition: 1) },
                fence: secondFence,
                leaseDuration: .seconds(60)
            )
            let outcomes = try await (fromFirst, Array(fromSecond.reversed()))

            for (index, pair) in zip(outcomes.0, outcomes.1).enumerated() {
                switch pair {
                case (.acquired, .busy), (.busy, .acquired):
                    continue
                default:
                    Issue.record("key \(names[index]) was claimed as \(pair.0) and \(pair.1)")
                }
            }
        }
        try await first.close()
        try await second.close()
    }

    @Test func finishesOfManyPartitionsShareCommitsAndAllLand() async throws {
        let batch = TestBatch()
        let store = try await PostgresTestServer.makeStore()
        let partitions = (0..<6).map { batch.partition($0) }
        let epochs = try await store.acquire(partitions, owner: "consumer-a")

        try await withThrowingTaskGroup(of: Void.self) { group in
            for partition in partitions {
                let epoch = try #require(epochs[partition])
                let fence = PartitionFence(partition: partition, owner: "consumer-a", epoch: epoch)
                group.addTask {
                    // One message at a time, as plain mode records them by default.
                    for offset in 0..<20 {
                        let name = "p\(partition.partition)-\(offset)"
                        let request = batch.request(name, offset: Int64(offset), partition: partition.partition)
                        _ = try await store.claim([request], fence: fence, leaseDuration: .seconds(60))
                        try await store.finish(
                            [batch.completed(name, offset: Int64(offset), partition: partition.partition)],
                            fence: fence
                        )
                    }
                }
            }
            try await group.waitForAll()
        }

        let keys = partitions.flatMap { partition in (0..<20).map { batch.key("p\(partition.partition)-\($0)") } }
        #expect(try await store.finishedKeys(among: keys).count == keys.count)
        try await store.close()
    }
}
