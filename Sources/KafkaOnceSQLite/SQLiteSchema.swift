import KafkaOnce

/// The store's tables, and the steps that bring a file of any earlier version to the current one.
///
/// `kafka_once_schema_version` holds the number of steps applied. A file made by a newer version
/// of KafkaOnce is refused rather than misread. Every table name starts with `kafka_once_`, so the
/// store can share a database with the application's own tables (transactional mode).
enum SQLiteSchema {
    /// The steps, in order; step `n` takes a file from version `n` to version `n + 1`.
    static let steps: [[String]] = [
        [
            """
            CREATE TABLE kafka_once_records (
                key TEXT PRIMARY KEY NOT NULL,
                fingerprint TEXT NOT NULL,
                state TEXT NOT NULL,
                owner TEXT NOT NULL,
                epoch INTEGER NOT NULL,
                topic TEXT NOT NULL,
                "partition" INTEGER NOT NULL,
                "offset" INTEGER NOT NULL,
                lease_expiry REAL,
                result BLOB,
                failure_reason TEXT,
                attempts INTEGER NOT NULL,
                created_at REAL NOT NULL,
                updated_at REAL NOT NULL
            )
            """,
            // The purge and the statistics read only this index.
            "CREATE INDEX kafka_once_records_by_state ON kafka_once_records (state, updated_at)",
            """
            CREATE TABLE kafka_once_partitions (
                topic TEXT NOT NULL,
                "partition" INTEGER NOT NULL,
                owner TEXT NOT NULL,
                epoch INTEGER NOT NULL,
                PRIMARY KEY (topic, "partition")
            ) WITHOUT ROWID
            """,
        ]
    ]

    /// The version this code reads and writes.
    static var currentVersion: Int64 { Int64(steps.count) }

    /// Creates the tables in a new file, or upgrades an older one, in one transaction.
    ///
    /// - Throws: ``/KafkaOnce/DeduplicationStoreError/Code/unusable`` when the file was written by a newer
    ///   version of KafkaOnce.
    static func prepare(_ connection: SQLiteConnection) throws {
        try connection.inWriteTransaction {
            try connection.runOnce(
                "CREATE TABLE IF NOT EXISTS kafka_once_schema_version (version INTEGER NOT NULL)"
            )
            let installed =
                try connection.prepared("SELECT MAX(version) FROM kafka_once_schema_version")
                .firstRow { $0.integer(at: 0) } ?? 0

            guard installed <= currentVersion else {
                throw DeduplicationStoreError(
                    .unusable,
                    "'\(connection.path)' holds a KafkaOnce store of schema version \(installed), newer than "
                        + "the version this KafkaOnce understands (\(currentVersion)); upgrade KafkaOnce "
                        + "or point --store elsewhere"
                )
            }
            guard installed < currentVersion else { return }

            for step in steps[Int(max(installed, 0))...] {
                for sql in step {
                    try connection.runOnce(sql)
                }
            }
            try connection.runOnce("DELETE FROM kafka_once_schema_version")
            try connection.runOnce(
                "INSERT INTO kafka_once_schema_version (version) VALUES (\(currentVersion))"
            )
        }
    }
}
