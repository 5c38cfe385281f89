import KafkaOnce

/// One partition's release of claims whose handler never started, written by a single statement.
///
/// The statement deletes the records of the keys that are in progress under exactly the fence
/// (partition, owner and epoch) and leaves every other record. Like ``PostgresFinish``, it writes
/// nothing when the fence is stale, and the caller's transaction holds the partition row
/// `FOR SHARE`, so the fence cannot change before the commit.
struct PostgresRelease: Sendable {
    let fence: PartitionFence
    /// The keys, each once, sorted, so that releases delete rows in the order claims lock them.
    let keys: [String]

    /// - Throws: ``/KafkaOnce/DeduplicationStoreError/Code/invalidArgument`` for a key, owner or
    ///   topic with a NUL character.
    init(_ keys: [String], fence: PartitionFence) throws(DeduplicationStoreError) {
        try PostgresValidation.fence(fence)
        for key in keys {
            try PostgresValidation.text(key, "the key '\(key)'")
        }
        self.fence = fence
        self.keys = Set(keys).sorted()
    }

    /// The statement that deletes the claims, or nothing when the fence is stale.
    func statement() -> PostgresStatement {
        PostgresStatement(
            """
            WITH fence AS (
                SELECT 1 FROM kafka_once_partitions
                WHERE topic = $1::text AND partition = $2::integer AND owner = $3::text AND epoch = $4::bigint
            )
            DELETE FROM kafka_once_records
            WHERE key = ANY($5::text[]) AND state = 'in_progress' AND owner = $3::text AND epoch = $4::bigint
                AND topic = $1::text AND partition = $2::integer AND EXISTS (SELECT 1 FROM fence)
            """,
            [
                .text(fence.partition.topic),
                .integer(fence.partition.partition),
                .text(fence.owner),
                .integer(fence.epoch),
                PostgresArrayLiteral.strings(keys),
            ],
            prepared: true
        )
    }

    /// What the release does, for error messages.
    var action: String {
        "release \(counted(keys.count, "claim")) for \(fence.partition)"
    }
}
