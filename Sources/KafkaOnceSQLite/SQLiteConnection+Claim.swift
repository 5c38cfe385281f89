import CSQLite
import Foundation
import KafkaOnce

extension SQLiteConnection {
    /// Starts a new epoch for each partition, owned by `owner`. Runs inside the caller's transaction.
    func acquire(_ partitions: [KafkaTopicPartition], owner: String) throws -> [KafkaTopicPartition: Int64] {
        let bump = try prepared(
            """
            INSERT INTO kafka_once_partitions (topic, "partition", owner, epoch) VALUES (?, ?, ?, 1)
            ON CONFLICT (topic, "partition")
            DO UPDATE SET owner = excluded.owner, epoch = kafka_once_partitions.epoch + 1
            """
        )
        var epochs: [KafkaTopicPartition: Int64] = [:]
        for partition in partitions {
            try bump.run([.text(partition.topic), .integer(Int64(partition.partition)), .text(owner)])
            epochs[partition] = try currentOwner(of: partition)?.epoch
        }
        return epochs
    }

    /// Throws ``/KafkaOnce/DeduplicationStoreError/Code/fenced`` unless `fence` names the partition's current
    /// owner and epoch.
    func checkFence(_ fence: PartitionFence) throws {
        guard let current = try currentOwner(of: fence.partition) else {
            throw DeduplicationStoreError(
                .fenced,
                "the fence \(fence) is not valid: \(fence.partition) was never acquired in the SQLite store "
                    + "at '\(path)'; call acquire(_:owner:) when the partition is assigned"
            )
        }
        guard current.owner == fence.owner, current.epoch == fence.epoch else {
            throw DeduplicationStoreError(
                .fenced,
                "the fence \(fence) is stale: \(fence.partition) now belongs to '\(current.owner)' at epoch "
                    + "\(current.epoch) in the SQLite store at '\(path)'; stop processing the partition"
            )
        }
    }

    private func currentOwner(of partition: KafkaTopicPartition) throws -> (owner: String, epoch: Int64)? {
        try prepared(#"SELECT owner, epoch FROM kafka_once_partitions WHERE topic = ? AND "partition" = ?"#)
            .firstRow([.text(partition.topic), .integer(Int64(partition.partition))]) { row in
                (row.text(at: 0) ?? "", row.integer(at: 1))
            }
    }

    /// Claims keys in order under a fence already checked in the caller's transaction.
    ///
    /// A new key costs one insert; only keys that already have a record are read, and decided by
    /// ``/KafkaOnce/ClaimRules``, the rules every store shares.
    func claim(
        _ requests: [ClaimRequest],
        fence: PartitionFence,
        leaseDuration: Duration,
        now: Date
    ) throws -> [ClaimOutcome] {
        let insert = try prepared(
            """
            INSERT INTO kafka_once_records (key, fingerprint, state, owner, epoch, topic, "partition",
                "offset", lease_expiry, attempts, created_at, updated_at)
            VALUES (?, ?, 'in_progress', ?, ?, ?, ?, ?, ?, 0, ?, ?)
            ON CONFLICT (key) DO NOTHING
            """
        )
        let nowSeconds = now.timeIntervalSince1970
        let expiry = nowSeconds + leaseDuration.seconds

        var outcomes: [ClaimOutcome] = []
        outcomes.reserveCapacity(requests.count)
        for request in requests {
            let inserted = try insert.run { row in
                row.add(request.key)
                row.add(request.fingerprint.hexDigits)
                row.add(fence.owner)
                row.add(fence.epoch)
                row.add(request.origin.topic)
                row.add(Int64(request.origin.partition))
                row.add(request.origin.offset)
                row.add(expiry)
                row.add(nowSeconds)
                row.add(nowSeconds)
            }
            if inserted == 1 {
                outcomes.append(.acquired)
            } else {
                try outcomes.append(claimExisting(request, fence: fence, expiry: expiry, now: now))
            }
        }
        return outcomes
    }

    /// Deletes the keys' records that are in progress under exactly `fence`, already checked in
    /// the caller's transaction; other records stay.
    func release(_ keys: [String], fence: PartitionFence) throws {
        let delete = try prepared(
            """
            DELETE FROM kafka_once_records
            WHERE key = ? AND state = 'in_progress' AND owner = ? AND epoch = ? AND topic = ? AND "partition" = ?
            """
        )
        for key in keys {
            try delete.run { row in
                row.add(key)
                row.add(fence.owner)
                row.add(fence.epoch)
                row.add(fence.partition.topic)
                row.add(Int64(fence.partition.partition))
            }
        }
    }

    /// Claims keys in order under a fence already checked in the caller's write transaction,
    /// writing nothing for a key that has no record: the caller writes its row later, with the
    /// message's outcome or, when the transaction is to commit without one, as an in-progress claim
    /// (``claim(_:fence:leaseDuration:now:)``). While the write transaction is open no other
    /// connection can write, so a key found without a record stays without one until then.
    ///
    /// - Parameter unwritten: The keys this transaction acquired without writing; new ones are added.
    func claimWithoutWriting(
        _ requests: [ClaimRequest],
        fence: PartitionFence,
        leaseDuration: Duration,
        now: Date,
        unwritten: inout [String: ClaimRequest]
    ) throws -> [ClaimOutcome] {
        let expiry = now.timeIntervalSince1970 + leaseDuration.seconds
        var outcomes: [ClaimOutcome] = []
        outcomes.reserveCapacity(requests.count)
        for request in requests {
            // This transaction's own claim: the record it stands for is this owner's, at this epoch.
            if unwritten[request.key] != nil {
                outcomes.append(.acquired)
            } else if let record = try record(for: request.key) {
                try outcomes.append(claim(request, existing: record, fence: fence, expiry: expiry, now: now))
            } else {
                unwritten[request.key] = request
                outcomes.append(.acquired)
            }
        }
        return outcomes
    }

    private func claimExisting(
        _ request: ClaimRequest,
        fence: PartitionFence,
        expiry: Double,
        now: Date
    ) throws -> ClaimOutcome {
        guard let record = try record(for: request.key) else {
            throw SQLiteFailure(
                code: SQLITE_INTERNAL,
                detail: "the record of '\(request.key)' was neither inserted nor found"
            )
        }
        return try claim(request, existing: record, fence: fence, expiry: expiry, now: now)
    }

    /// Claims a key that has a record, by ``/KafkaOnce/ClaimRules``.
    private func claim(
        _ request: ClaimRequest,
        existing record: DeduplicationRecord,
        fence: PartitionFence,
        expiry: Double,
        now: Date
    ) throws -> ClaimOutcome {
        let (outcome, claimed) = ClaimRules.decide(request, existing: record, fence: fence, now: now)
        guard claimed else { return outcome }

        // The claim now belongs to this message's partition, so its origin moves with it: the
        // record's epoch is only comparable with the fence of that partition.
        try prepared(
            """
            UPDATE kafka_once_records SET owner = ?, epoch = ?, topic = ?, "partition" = ?, "offset" = ?,
                lease_expiry = ?, updated_at = ?
            WHERE key = ?
            """
        ).run { row in
            row.add(fence.owner)
            row.add(fence.epoch)
            row.add(request.origin.topic)
            row.add(Int64(request.origin.partition))
            row.add(request.origin.offset)
            row.add(expiry)
            row.add(now.timeIntervalSince1970)
            row.add(request.key)
        }
        return outcome
    }
}
