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
}
