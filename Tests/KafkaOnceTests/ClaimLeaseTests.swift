import Foundation
import KafkaOnce
import KafkaOnceTesting
import Synchronization
import Testing

/// Claims taken a batch at a time, held while the batch runs: what keeps two partitions holding
/// copies of one id from both applying it.
@Suite struct ClaimLeaseTests {
    @Test func aBatchOutlivingTheLeaseStillAppliesAnIDOnceWhenAnotherPartitionHoldsACopy() async throws {
        // Partition 0: four handler calls of 400 ms, each well inside the 1 s lease, then k; the
        // batch as a whole outlives the lease. Partition 1 meets its copy of k once partition 0's
        // claims are more than a lease old, unless partition 0 renewed them.
        let topic = try TestCluster.uniqueTopic("lease", partitions: 2)
        let records: [(id: String, partition: Int32)] = [
            ("a", 0), ("b", 0), ("c", 0), ("d", 0), ("k", 0),
            ("w", 1), ("x", 1), ("x", 1), ("k", 1),
        ]
        let producer = try KafkaProducer(configuration: .init(bootstrapServers: TestCluster.shared.bootstrapServers))
        try await producer.send(
            records.map { id, partition in
                KafkaProducerRecord(
                    topic: topic,
                    partition: partition,
                    value: Array("payload-\(id)".utf8),
                    headers: [KafkaHeader(name: "idempotency-key", text: id)]
                )
            }
        )
        try await producer.close()

        let ledger = EffectLedger()
        let dStarted = Atomic(false)
        var configuration = runtimeConfiguration(topic: topic, partitions: 2)
        configuration.leaseDuration = .seconds(1)
        let consumer = EffectivelyOnceConsumer(configuration: configuration, store: InMemoryDeduplicationStore()) {
            message,
            _ in
            let name = id(of: message)
            switch name {
            case "a", "b", "c", "d":
                if name == "d" { dStarted.store(true, ordering: .releasing) }
                try await Task.sleep(for: .milliseconds(400))
            case "w":
                // Holds partition 1 back until partition 0's first claims are past their lease;
                // the repeated x then puts k in a claim of its own, made after that.
                _ = await eventually { dStarted.load(ordering: .acquiring) }
            default:
                break
            }
            ledger.apply(name)
        }
        let done = try await runUntil(consumer) {
            // Every one of the nine messages either ran or was skipped as a duplicate.
            let metrics = consumer.metrics.snapshot()
            return metrics.processed + metrics.duplicatesSkipped == records.count && metrics.inFlight == 0
        }
        #expect(done)
        #expect(ledger.duplicated.isEmpty, "effects: \(ledger.effects)")
        #expect(ledger.effects == ["a": 1, "b": 1, "c": 1, "d": 1, "k": 1, "w": 1, "x": 1])
    }

    @Test func aClaimStartedDuringAnotherOfOverlappingKeysWinsNoneOfThem() async throws {
        // The in-memory store spreads keys over shards and locks them one at a time. A claim of
        // the shared keys that starts while a long claim of them is under way must still find
        // them all taken, not win the ones in the shards the long claim has not reached yet.
        let store = InMemoryDeduplicationStore()
        let (first, second) = (
            KafkaTopicPartition(topic: "t", partition: 0), KafkaTopicPartition(topic: "t", partition: 1)
        )
        let epochs = try await store.acquire([first, second], owner: "me")
        func requests(_ keys: [String], _ partition: KafkaTopicPartition) -> [ClaimRequest] {
            keys.enumerated().map { index, key in
                ClaimRequest(
                    key: key,
                    fingerprint: MessageFingerprint(payload: Array(key.utf8)),
                    origin: KafkaTopicPartitionOffset(topic: "t", partition: partition.partition, offset: Int64(index))
                )
            }
        }
        // How long a claim of that size takes here, alone, on a store of its own.
        let calibration = InMemoryDeduplicationStore()
        let calibrationEpoch = try await calibration.acquire([first], owner: "me")[first]!
        let calibrationRequests = requests((0..<40_064).map { "calibration-\($0)" }, first)
        let longClaim = try await ContinuousClock().measure {
            _ = try await calibration.claim(
                calibrationRequests,
                fence: PartitionFence(partition: first, owner: "me", epoch: calibrationEpoch),
                leaseDuration: .seconds(60)
            )
        }

        var splits: [Int] = []
        for round in 0..<16 {
            let shared = (0..<4).map { "r\(round)-shared-\($0)" }
            let own = (0..<40_000).map { "r\(round)-own-\($0)" }
            let longRequests = requests(own + shared, first)
            let lateRequests = requests(shared, second)
            let long = Task.detached {
                try await store.claim(
                    longRequests,
                    fence: PartitionFence(partition: first, owner: "me", epoch: epochs[first]!),
                    leaseDuration: .seconds(60)
                )
            }
            // Start the late claim at a different point of the long one each round.
            try await Task.sleep(for: longClaim * (Double(round) / 16))
            let late = try await store.claim(
                lateRequests,
                fence: PartitionFence(partition: second, owner: "me", epoch: epochs[second]!),
                leaseDuration: .seconds(60)
            )
            _ = try await long.value
            let won = late.filter { $0 == .acquired }.count
            if won > 0 && won < shared.count { splits.append(won) }
        }
        #expect(
            splits.isEmpty,
            "the late claim won part of the shared keys: \(splits) of 4, in \(splits.count) of 16 rounds"
        )
    }
}
