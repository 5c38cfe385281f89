import KafkaOnce
import KafkaOncePostgres
import Testing

/// The application's own statements outside a consumer: no fence, all or nothing.
@Suite(.postgresServer) struct PostgresMaintenanceTransactionTests {
    private struct SetupFailure: Error {}

    @Test func committedWritesAreReadByTheNextTransaction() async throws {
        let table = TestBatch().prefix.replacingOccurrences(of: "-", with: "_") + "_charges"
        let store = try await PostgresTestServer.makeStore()
        let inserted = try await store.withMaintenanceTransaction { sql in
            try sql.execute("CREATE TABLE \(table) (order_id text PRIMARY KEY, amount bigint)", [])
            return try sql.execute(
                "INSERT INTO \(table) VALUES ($1, $2), ($3, $4)",
                [.text("o-1"), .integer(5), .text("o-2"), .integer(7)]
            )
        }
        #expect(inserted == 2)
        let total = try await store.withMaintenanceTransaction { sql in
            try sql.query("SELECT SUM(amount)::bigint AS total FROM \(table)", []).first?["total"]
        }
        #expect(total == .integer(12))
        try await store.close()
    }

    @Test func aBodyThatThrowsKeepsNothing() async throws {
        let (store, table) = try await storeWithTable()
        await #expect(throws: SetupFailure.self) {
            try await store.withMaintenanceTransaction { sql in
                try sql.execute("INSERT INTO \(table) VALUES ('o-1')", [])
                throw SetupFailure()
            }
        }
        #expect(try await count(table, store) == 0)
        try await store.close()
    }

    @Test func aFailedStatementNamesItsSQLStateAndABodyThatSwallowsItCommitsNothing() async throws {
        let (store, table) = try await storeWithTable()
        try await store.withMaintenanceTransaction { sql in try sql.execute("INSERT INTO \(table) VALUES ('o-1')", []) }

        let failure = await #expect(throws: PostgresStatementError.self) {
            try await store.withMaintenanceTransaction { sql in
                try sql.execute("INSERT INTO \(table) VALUES ('o-2')", [])
                try sql.execute("INSERT INTO \(table) VALUES ('o-1')", [])
            }
        }
        #expect(failure?.sqlState == "23505")

        let swallowed = await storeError {
            try await store.withMaintenanceTransaction { sql in
                try sql.execute("INSERT INTO \(table) VALUES ('o-3')", [])
                _ = try? sql.execute("INSERT INTO \(table) VALUES ('o-1')", [])
            }
        }
        #expect(swallowed?.code == .invalidArgument)
        #expect(try await count(table, store) == 1)
        try await store.close()
    }

    /// A store, and a table of its own with one text column.
    private func storeWithTable() async throws -> (PostgresDeduplicationStore, String) {
        let table = TestBatch().prefix.replacingOccurrences(of: "-", with: "_") + "_charges"
        let store = try await PostgresTestServer.makeStore()
        try await store.withMaintenanceTransaction { sql in
            try sql.execute("CREATE TABLE \(table) (order_id text PRIMARY KEY)", [])
        }
        return (store, table)
    }

    private func count(_ table: String, _ store: PostgresDeduplicationStore) async throws -> Int64? {
        let rows = try await store.withMaintenanceTransaction { sql in
            try sql.query("SELECT COUNT(*)::bigint AS count FROM \(table)", [])
        }
        guard case .integer(let count) = rows.first?["count"] else { return nil }
        return count
    }
}
