import KafkaOnce

/// The store's tables, created and migrated when a store connects.
///
/// Migrations run in one transaction behind a transaction-scoped advisory lock, so consumer
/// instances that start together wait for each other instead of racing to create the tables.
/// `kafka_once_schema_version` holds the version reached; a later version of this library adds
/// migrations after the last one here.
enum PostgresSchema {
    /// The version this library writes and reads.
    static let currentVersion = 1

    /// The advisory lock key, the bytes of "KafkaOnc" read as an integer.
    static let migrationLockKey: Int64 = 0x4B61_666B_614F_6E63

    /// The statements that take the schema from version `index` to `index + 1`.
    static let migrations: [[String]] = [
        [
            // Half of each page stays free, so that a finish rewrites its record on the same page
            // without touching an index (a heap-only update): the finish changes no indexed column.
            """
            CREATE TABLE kafka_once_records (
                key text COLLATE "C" PRIMARY KEY,
                fingerprint text NOT NULL,
                state text NOT NULL CHECK (state IN ('in_progress', 'completed', 'failed')),
                owner text NOT NULL,
                epoch bigint NOT NULL,
                topic text NOT NULL,
                partition integer NOT NULL,
                "offset" bigint NOT NULL,
                lease_expiry timestamptz,
                result bytea,
                failure_reason text,
                attempts integer NOT NULL DEFAULT 0,
                created_at timestamptz NOT NULL,
                updated_at timestamptz NOT NULL
            ) WITH (fillfactor = 50)
            """,
            // The purge looks for records updated before a cutoff, which were created before it too.
            // Indexing the creation time, which never changes, keeps finishes heap-only; an index on
            // (state, updated_at) would make every finish write two index entries.
            "CREATE INDEX kafka_once_records_created_at ON kafka_once_records (created_at)",
            """
            CREATE TABLE kafka_once_partitions (
                topic text COLLATE "C" NOT NULL,
                partition integer NOT NULL,
                owner text NOT NULL,
                epoch bigint NOT NULL,
                updated_at timestamptz NOT NULL,
                PRIMARY KEY (topic, partition)
            )
            """,
        ]
    ]

    /// Creates or migrates the tables on `connection`.
    ///
    /// - Throws: ``PostgresFailure`` from the server, or ``/KafkaOnce/DeduplicationStoreError/Code/unusable``
    ///   when the tables were written by a newer version of KafkaOnce.
    static func prepare(on connection: PostgresConnection, location: PostgresLocation) throws {
        do {
            try migrate(on: connection, location: location)
        } catch {
            _ = try? connection.execute(PostgresStatement("ROLLBACK"))
            throw error
        }
    }

    private static func migrate(on connection: PostgresConnection, location: PostgresLocation) throws {
        let found = try connection.pipeline([
            PostgresStatement("BEGIN"),
            PostgresStatement("SELECT pg_advisory_xact_lock($1)", [.integer(migrationLockKey)]),
            PostgresStatement("SELECT to_regclass('kafka_once_schema_version') IS NOT NULL"),
        ])
        let hasVersionTable = try found[2].row(0).bool(0)
        let version = try hasVersionTable ? installedVersion(on: connection) : 0
        guard version <= currentVersion else {
            throw DeduplicationStoreError(
                .unusable,
                "the PostgreSQL store at '\(location.redacted)' has schema version \(version), written by a "
                    + "newer KafkaOnce; this one reads up to version \(currentVersion), so upgrade it"
            )
        }

        var statements: [PostgresStatement] = []
        if !hasVersionTable {
            statements.append(
                PostgresStatement(
                    """
                    CREATE TABLE kafka_once_schema_version (
                        version integer PRIMARY KEY,
                        applied_at timestamptz NOT NULL
                    )
                    """
                )
            )
        }
        for next in version..<currentVersion {
            statements += migrations[next].map { PostgresStatement($0) }
            statements.append(
                PostgresStatement(
                    "INSERT INTO kafka_once_schema_version (version, applied_at) VALUES ($1, now())",
                    [.integer(next + 1)]
                )
            )
        }
        _ = try connection.pipeline(statements + [PostgresStatement("COMMIT")])
    }

    private static func installedVersion(on connection: PostgresConnection) throws -> Int {
        let result = try connection.execute(
            PostgresStatement("SELECT coalesce(max(version), 0) FROM kafka_once_schema_version")
        )
        return Int(try result.row(0).int64(0))
    }
}
