import Foundation
import KafkaOnce
import Synchronization

/// Wraps a store to see, at any moment, which keys are durably recorded, and to make it fail.
final class StoreProbe: DeduplicationStore {
    let inner: any DeduplicationStore
    /// Keys whose `finish` returned.
    let durableKeys = Mutex<Set<String>>([])
    /// When set, every call fails with this error.
    let failure = Mutex<DeduplicationStoreError?>(nil)

    init(_ inner: any DeduplicationStore) {
        self.inner = inner
    }

    private func check() throws {
        if let error = failure.withLock({ $0 }) { throw error }
    }

    func acquire(_ partitions: [KafkaTopicPartition], owner: String) async throws -> [KafkaTopicPartition: Int64] {
        try check()
        return try await inner.acquire(partitions, owner: owner)
    }

    func claim(
        _ requests: [ClaimRequest],
        fence: PartitionFence,
        leaseDuration: Duration
    ) async throws
        -> [ClaimOutcome]
    {
        try check()
        let outcomes = try await inner.claim(requests, fence: fence, leaseDuration: leaseDuration)
        // Keys found finished were recorded durably earlier.
        let finished = zip(requests, outcomes).compactMap { request, outcome -> String? in
            switch outcome {
            case .completed, .failed: request.key
            default: nil
            }
        }
        durableKeys.withLock { $0.formUnion(finished) }
        return outcomes
    }

    func finish(_ outcomes: [RecordedOutcome], fence: PartitionFence) async throws {
        try check()
        try await inner.finish(outcomes, fence: fence)
        durableKeys.withLock { $0.formUnion(outcomes.map(\.key)) }
    }

    func record(for key: String) async throws -> DeduplicationRecord? { try await inner.record(for: key) }
    func forget(_ key: String) async throws -> Bool { try await inner.forget(key) }
    func purge(updatedBefore cutoff: Date, batchSize: Int) async throws -> Int {
        try await inner.purge(updatedBefore: cutoff, batchSize: batchSize)
    }
    func statistics() async throws -> DeduplicationStoreStatistics { try await inner.statistics() }
    func finishedKeys(among keys: [String]) async throws -> Set<String> { try await inner.finishedKeys(among: keys) }
    func close() async throws { try await inner.close() }
}
