import Foundation
import KafkaOnce
@_spi(Testing) import KafkaOnceSQLite
import Testing

@Suite struct SQLiteGroupCommitTests {
    @Test func concurrentFinishesShareOneCommitAndAStaleFenceFailsAlone() async throws {
        try await withTemporaryDirectory { directory in
            let store = try SQLiteDeduplicationStore(path: directory + "/store.sqlite")
            let partitions = (0..<8).map { Fixtures.partition(Int32($0)) }
            let first = try await store.acquire(partitions, owner: "consumer-1")
            let zombie = PartitionFence(partition: partitions[0], owner: "consumer-1", epoch: 1)
            let second = try await store.acquire([partitions[0]], owner: "consumer-1")
            let fences = partitions.map { partition in
                PartitionFence(
                    partition: partition,
                    owner: "consumer-1",
                    epoch: second[partition] ?? first[partition] ?? 0
                )
            }

            // Hold the worker thread until all nine calls wait, so that one drain takes them all.
            let started = Flag()
            let blocker = Task {
                try await store.withTransaction(fence: fences[1]) { _ in
                    started.set()
                    let deadline = Date().addingTimeInterval(2)
                    while store.waitingGroupedCallCount < 9 && Date() < deadline {
                        usleep(1_000)
                    }
                }
            }
            while !started.isSet {
                try await Task.sleep(for: .milliseconds(1))
            }

            let results = await withTaskGroup(of: (Int, Bool).self) { group in
                for (index, fence) in fences.enumerated() {
                    group.addTask {
                        let outcomes = (0..<20).map {
                            Fixtures.completed("p\(index)-\($0)", partition: Int32(index))
                        }
                        return (index, (try? await store.finish(outcomes, fence: fence)) != nil)
                    }
                }
                group.addTask {
                    (-1, (try? await store.finish([Fixtures.completed("zombie")], fence: zombie)) != nil)
                }
                return await group.reduce(into: [Int: Bool]()) { $0[$1.0] = $1.1 }
            }
            try await blocker.value

            #expect(results[-1] == false)
            #expect((0..<8).allSatisfy { results[$0] == true })
            // One transaction for the blocker, one for the nine finish calls.
            #expect(try await store.groupCommitCount() == 2)
            #expect(try await store.record(for: "zombie") == nil)
            #expect(try await store.statistics().completed == 160)
            try await store.close()
        }
    }

    /// Speed is measured by `kafka-once bench`, never asserted here.
    @Test func batchOfAThousandKeysIsClaimedFinishedAndSeenAsCompleted() async throws {
        try await withTemporaryDirectory { directory in
            let store = try SQLiteDeduplicationStore(path: directory + "/store.sqlite")
            let fence = try await Fixtures.fence(store)
            let requests = (0..<1000).map { Fixtures.request("order-\($0)", offset: Int64($0)) }

            let claimed = try await store.claim(requests, fence: fence, leaseDuration: .seconds(30))
            try await store.finish(requests.map { Fixtures.completed($0.key) }, fence: fence)
            let again = try await store.claim(requests, fence: fence, leaseDuration: .seconds(30))

            #expect(claimed.allSatisfy { $0 == .acquired })
            #expect(again.allSatisfy { if case .completed = $0 { true } else { false } })
            #expect(try await store.statistics().completed == 1000)
            try await store.close()
        }
    }
}
