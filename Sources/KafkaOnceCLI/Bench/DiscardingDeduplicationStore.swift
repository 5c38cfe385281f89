import KafkaOnce

import struct Foundation.Date

/// A store that remembers nothing: every claim finds a new key and every outcome is dropped.
///
/// The `none` mode runs the runtime with it to measure what the runtime itself costs (key
/// derivation, fingerprints, per-partition tasks, the claim and record calls, offset tracking
/// and commits) without the cost of any deduplication. The runtime has no switch to turn
/// deduplication off, and should not have one; this store is built only from the public
/// ``DeduplicationStore`` protocol.
///
/// - Warning: With this store every redelivered message runs again: it deduplicates nothing.
struct DiscardingDeduplicationStore: DeduplicationStore {
    func acquire(_ partitions: [KafkaTopicPartition], owner: String) async throws -> [KafkaTopicPartition: Int64] {
        Dictionary(uniqueKeysWithValues: partitions.map { ($0, 1) })
    }

    func claim(
        _ requests: [ClaimRequest],
        fence: PartitionFence,
        leaseDuration: Duration
    ) async throws -> [ClaimOutcome] {
        Array(repeating: .acquired, count: requests.count)
    }

    func finish(_ outcomes: [RecordedOutcome], fence: PartitionFence) async throws {}

    func release(_ keys: [String], fence: PartitionFence) async throws {}

    func record(for key: String) async throws -> DeduplicationRecord? { nil }

    func forget(_ key: String) async throws -> Bool { false }

    func purge(updatedBefore cutoff: Date, batchSize: Int) async throws -> Int { 0 }

    func statistics() async throws -> DeduplicationStoreStatistics {
        DeduplicationStoreStatistics(inProgress: 0, completed: 0, failed: 0, oldestUpdate: nil, newestUpdate: nil)
    }

    func finishedKeys(among keys: [String]) async throws -> Set<String> { [] }

    func close() async throws {}
}
