import Foundation
import KafkaOnce

extension SQLiteDeduplicationStore {
    /// Starts a new epoch for each partition, owned by `owner`, in one transaction.
    ///
    /// - Returns: The new epoch of each partition: 1 the first time, then one more each time.
    public func acquire(
        _ partitions: [KafkaTopicPartition],
        owner: String
    ) async throws -> [KafkaTopicPartition: Int64] {
        try await perform("acquiring \(partitions.count) partitions for '\(owner)'") { connection in
            try connection.inWriteTransaction {
                try connection.acquire(partitions, owner: owner)
            }
        }
    }

    /// Claims one partition's batch of keys, after checking `fence` in the same transaction.
    ///
    /// Claims, finishes and transactions of different partitions that wait for the store's
    /// thread at the same moment share one transaction and one sync, each behind a savepoint of
    /// its own (see ``finish(_:fence:)``).
    ///
    /// A key claimed twice in one batch is the caller's own claim the second time, so both report
    /// ``/KafkaOnce/ClaimOutcome/acquired``.
    ///
    /// - Throws: ``/KafkaOnce/DeduplicationStoreError/Code/fenced`` when `fence` is stale; nothing is claimed.
    public func claim(
        _ requests: [ClaimRequest],
        fence: PartitionFence,
        leaseDuration: Duration
    ) async throws -> [ClaimOutcome] {
        try await commitGrouped(fence: fence, action: "claiming \(requests.count) keys for \(fence.partition)") {
            connection in
            try connection.claim(requests, fence: fence, leaseDuration: leaseDuration, now: Date())
        }
    }

    /// Deletes the keys' records that are in progress under exactly `fence`, after checking
    /// `fence` in the same transaction; see ``/KafkaOnce/DeduplicationStore/release(_:fence:)``.
    ///
    /// The call shares the next group commit with claims and finishes of other partitions.
    ///
    /// - Throws: ``/KafkaOnce/DeduplicationStoreError/Code/fenced`` when `fence` is stale; nothing is released.
    public func release(_ keys: [String], fence: PartitionFence) async throws {
        try await commitGrouped(fence: fence, action: "releasing \(keys.count) claims for \(fence.partition)") {
            connection in
            try connection.release(keys, fence: fence)
        }
    }

    /// The record of `key`, if there is one.
    public func record(for key: String) async throws -> DeduplicationRecord? {
        try await perform("reading the record of '\(key)'") { connection in
            try connection.record(for: key)
        }
    }

    /// Deletes the record of `key`, so its message is processed again when redelivered.
    ///
    /// - Returns: Whether there was a record.
    @discardableResult
    public func forget(_ key: String) async throws -> Bool {
        try await perform("forgetting '\(key)'") { connection in
            try connection.forget(key)
        }
    }

    /// Deletes completed and failed records last updated before `cutoff`, `batchSize` at a time.
    ///
    /// Each batch is its own statement and transaction, and other calls run between batches, so a
    /// large purge does not stall the consumers. In-progress records are never purged.
    ///
    /// - Returns: How many records were deleted.
    /// - Throws: ``/KafkaOnce/DeduplicationStoreError/Code/invalidArgument`` when `batchSize` is not positive.
    public func purge(updatedBefore cutoff: Date, batchSize: Int) async throws -> Int {
        guard batchSize > 0 else {
            throw DeduplicationStoreError(
                .invalidArgument,
                "the purge batch size is \(batchSize); pass a positive number of records per statement"
            )
        }
        var deleted = 0
        while true {
            let batch = try await perform("purging records updated before \(cutoff)") { connection in
                try connection.purgeBatch(updatedBefore: cutoff, limit: batchSize)
            }
            deleted += batch
            if batch < batchSize {
                return deleted
            }
        }
    }

    /// Counts records by state.
    public func statistics() async throws -> DeduplicationStoreStatistics {
        try await perform("counting records") { connection in
            try connection.statistics()
        }
    }

    /// The keys among `keys` that have a completed or failed record; claims nothing.
    public func finishedKeys(among keys: [String]) async throws -> Set<String> {
        try await perform("looking up \(keys.count) keys") { connection in
            try connection.finishedKeys(among: keys)
        }
    }
}
