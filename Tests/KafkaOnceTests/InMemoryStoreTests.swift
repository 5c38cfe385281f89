import Foundation
import KafkaOnce
import KafkaOnceTesting
import Testing

@Suite struct InMemoryStoreTests {
    @Test func theInMemoryStoreMeetsTheStoreContract() async throws {
        try await DeduplicationStoreConformance.check { InMemoryDeduplicationStore() }
    }

    @Test func beyondItsCapacityTheRecordsFinishedLongestAgoAreDroppedFirst() async throws {
        let store = InMemoryDeduplicationStore(capacity: 3)
        let partition = KafkaTopicPartition(topic: "t", partition: 0)
        let epoch = try await store.acquire([partition], owner: "me")[partition]!
        let fence = PartitionFence(partition: partition, owner: "me", epoch: epoch)
        for index in 0..<5 {
            let outcome = RecordedOutcome(
                key: "k\(index)",
                fingerprint: MessageFingerprint(payload: [UInt8(index)]),
                origin: KafkaTopicPartitionOffset(topic: "t", partition: 0, offset: Int64(index)),
                kind: .completed(result: nil),
                attempts: 1
            )
            try await store.finish([outcome], fence: fence)
        }
        let kept = try await store.finishedKeys(among: (0..<5).map { "k\($0)" })
        #expect(kept == ["k2", "k3", "k4"])
    }

    @Test func releasedClaimsFreeTheirSlotsWithoutCountingAsFinishedRecords() async throws {
        let store = InMemoryDeduplicationStore(capacity: 2)
        let partition = KafkaTopicPartition(topic: "t", partition: 0)
        let epoch = try await store.acquire([partition], owner: "me")[partition]!
        let fence = PartitionFence(partition: partition, owner: "me", epoch: epoch)
        let claims = ["x", "y"].map { key in
            ClaimRequest(
                key: key,
                fingerprint: MessageFingerprint(payload: Array(key.utf8)),
                origin: KafkaTopicPartitionOffset(topic: "t", partition: 0, offset: 0)
            )
        }
        _ = try await store.claim(claims, fence: fence, leaseDuration: .seconds(60))
        try await store.release(["x", "y"], fence: fence)

        let keys = (0..<4).map { "k\($0)" }
        try await store.finish(
            keys.map { key in
                RecordedOutcome(
                    key: key,
                    fingerprint: MessageFingerprint(payload: Array(key.utf8)),
                    origin: KafkaTopicPartitionOffset(topic: "t", partition: 0, offset: 1),
                    kind: .completed(result: nil),
                    attempts: 1
                )
            },
            fence: fence
        )
        // Two places: releasing the two claims must not have made room for more.
        #expect(try await store.finishedKeys(among: keys) == ["k2", "k3"])
        #expect(try await store.statistics().inProgress == 0)
    }

    @Test func recordsRemovedUnderCapacityDoNotDisturbTheEvictionOrder() async throws {
        // Below 4 096 records of capacity the store keeps one shard, so eviction order is global.
        let store = InMemoryDeduplicationStore(capacity: 1_500)
        let partition = KafkaTopicPartition(topic: "t", partition: 0)
        let epoch = try await store.acquire([partition], owner: "me")[partition]!
        let fence = PartitionFence(partition: partition, owner: "me", epoch: epoch)
        var offset: Int64 = 0
        func outcomes(_ keys: [String]) -> [RecordedOutcome] {
            keys.map { key in
                offset += 1
                return RecordedOutcome(
                    key: key,
                    fingerprint: MessageFingerprint(payload: Array(key.utf8)),
                    origin: KafkaTopicPartitionOffset(topic: "t", partition: 0, offset: offset),
                    kind: .completed(result: nil),
                    attempts: 1
                )
            }
        }
        let older = (0..<1_000).map { "old-\($0)" }
        try await store.finish(outcomes(older), fence: fence)
        // Many records finished and forgotten while the store stays under its capacity.
        for index in 0..<3_000 {
            try await store.finish(outcomes(["passing-\(index)"]), fence: fence)
            #expect(try await store.forget("passing-\(index)"))
        }

        let newer = (0..<600).map { "new-\($0)" }
        try await store.finish(outcomes(newer), fence: fence)

        // 1 600 finished records for 1 500 places: the 100 finished longest ago go.
        #expect(try await store.finishedKeys(among: older) == Set(older.dropFirst(100)))
        #expect(try await store.finishedKeys(among: newer) == Set(newer))
    }
}
