import Foundation
import KafkaOnce

// MARK: - Partitions, records and maintenance

extension PostgresDeduplicationStore {
    /// Starts a new epoch of each partition for `owner`: 1 for a partition never seen, one more
    /// than the last otherwise.
    ///
    /// The update waits for open transactions that hold the partition rows (the previous owner's
    /// claims, finishes and ``withTransaction(fence:_:)``), so once it returns, nothing the
    /// previous owner does can be recorded.
    public func acquire(
        _ partitions: [KafkaTopicPartition],
        owner: String
    ) async throws -> [KafkaTopicPartition: Int64] {
        try PostgresValidation.text(owner, "the owner '\(owner)'")
        for partition in partitions {
            try PostgresValidation.text(partition.topic, "the topic '\(partition.topic)'")
        }
        // Rows are updated in the order transactions lock them, so the two cannot deadlock.
        let sorted = Set(partitions).sorted(by: PostgresFenceCheck.lockOrder)
        let statement = PostgresStatement(
            """
            INSERT INTO kafka_once_partitions AS p (topic, partition, owner, epoch, updated_at)
            SELECT topic, partition, $3::text, 1, now()
            FROM unnest($1::text[], $2::integer[]) AS i(topic, partition)
            ON CONFLICT (topic, partition) DO UPDATE
            SET owner = excluded.owner, epoch = p.epoch + 1, updated_at = now()
            RETURNING topic, partition, epoch
            """,
            [
                PostgresArrayLiteral.strings(sorted.map(\.topic)),
                PostgresArrayLiteral.integers(sorted.map(\.partition)),
                .text(owner),
            ],
            prepared: true
        )
        guard !sorted.isEmpty else {
            try checkOpen()
            return [:]
        }
        return try await perform("acquire \(counted(sorted.count, "partition")) for '\(owner)'") { session in
            try session.retrying { connection in
                var epochs: [KafkaTopicPartition: Int64] = [:]
                for row in try connection.execute(statement).rows {
                    let partition = Int32(truncatingIfNeeded: try row.int64(1))
                    epochs[KafkaTopicPartition(topic: try row.string(0), partition: partition)] = try row.int64(2)
                }
                return epochs
            }
        }
    }

    /// The record of `key`, or `nil` when the store has none.
    public func record(for key: String) async throws -> DeduplicationRecord? {
        try PostgresValidation.text(key, "the key '\(key)'")
        let statement = PostgresStatement(
            "SELECT \(PostgresRecordColumns.list("r")) FROM kafka_once_records AS r WHERE r.key = $1::text",
            [.text(key)],
            prepared: true
        )
        return try await perform("read the record of key '\(key)'") { session in
            try session.retrying { connection in
                let result = try connection.execute(statement)
                return result.rowCount == 0 ? nil : try PostgresRecordColumns.decode(result.row(0))
            }
        }
    }

    /// Deletes the record of `key`, so its message is processed again when redelivered.
    ///
    /// - Returns: Whether there was a record.
    @discardableResult
    public func forget(_ key: String) async throws -> Bool {
        try PostgresValidation.text(key, "the key '\(key)'")
        let statement = PostgresStatement(
            "DELETE FROM kafka_once_records WHERE key = $1::text",
            [.text(key)],
            prepared: true
        )
        return try await perform("forget key '\(key)'") { session in
            try session.retrying { connection in try connection.execute(statement).affectedRows > 0 }
        }
    }

    /// Deletes completed and failed records last updated before `cutoff`, `batchSize` per
    /// statement, each statement its own transaction, until none is left.
    ///
    /// Rows that another transaction holds are skipped (`FOR UPDATE SKIP LOCKED`), and claims and
    /// finishes run between the batches.
    ///
    /// - Returns: How many records were deleted.
    public func purge(updatedBefore cutoff: Date, batchSize: Int) async throws -> Int {
        guard batchSize > 0 else {
            throw DeduplicationStoreError(
                .invalidArgument,
                "the purge batch size \(batchSize) is not positive; pass how many records one statement deletes, "
                    + "such as 10_000"
            )
        }
        let statement = PostgresStatement(
            """
            DELETE FROM kafka_once_records WHERE key = ANY(ARRAY(
                SELECT key FROM kafka_once_records
                WHERE created_at < to_timestamp($1::float8) AND updated_at < to_timestamp($1::float8)
                    AND state IN ('completed', 'failed')
                LIMIT $2::integer
                FOR UPDATE SKIP LOCKED
            ))
            """,
            [.real(cutoff.timeIntervalSince1970), .integer(batchSize)],
            prepared: true
        )
        var total = 0
        while true {
            // One job per batch, so claims and finishes run between the batches.
            let deleted = try await perform("purge records updated before \(cutoff)") { session in
                try session.retrying { connection in try connection.execute(statement).affectedRows }
            }
            total += deleted
            if deleted < batchSize { return total }
        }
    }

    /// Counts records by state, with the oldest and newest update times.
    ///
    /// - Important: The count reads the whole records table, so it takes seconds on tables of
    ///   tens of millions of records. Call it for reports, not on the hot path.
    public func statistics() async throws -> DeduplicationStoreStatistics {
        let statement = PostgresStatement(
            """
            SELECT state, count(*), extract(epoch FROM min(updated_at)), extract(epoch FROM max(updated_at))
            FROM kafka_once_records GROUP BY state
            """,
            prepared: true
        )
        return try await perform("count records") { session in
            try session.retrying { connection in
                var statistics = DeduplicationStoreStatistics(
                    inProgress: 0,
                    completed: 0,
                    failed: 0,
                    oldestUpdate: nil,
                    newestUpdate: nil
                )
                for row in try connection.execute(statement).rows {
                    let count = Int(try row.int64(1))
                    switch DeduplicationRecord.State(rawValue: try row.string(0)) {
                    case .inProgress: statistics.inProgress = count
                    case .completed: statistics.completed = count
                    case .failed: statistics.failed = count
                    case nil: continue
                    }
                    let oldest = try row.date(2)
                    let newest = try row.date(3)
                    statistics.oldestUpdate = min(statistics.oldestUpdate ?? oldest, oldest)
                    statistics.newestUpdate = max(statistics.newestUpdate ?? newest, newest)
                }
                return statistics
            }
        }
    }

    /// Which of `keys` have a completed or failed record, in one query, claiming none of them.
    public func finishedKeys(among keys: [String]) async throws -> Set<String> {
        for key in keys { try PostgresValidation.text(key, "the key '\(key)'") }
        guard !keys.isEmpty else {
            try checkOpen()
            return []
        }
        let statement = PostgresStatement(
            "SELECT key FROM kafka_once_records WHERE key = ANY($1::text[]) AND state IN ('completed', 'failed')",
            [PostgresArrayLiteral.strings(keys)],
            prepared: true
        )
        return try await perform("look up \(counted(keys.count, "key"))") { session in
            try session.retrying { connection in
                Set(try connection.execute(statement).rows.map { try $0.string(0) })
            }
        }
    }
}
