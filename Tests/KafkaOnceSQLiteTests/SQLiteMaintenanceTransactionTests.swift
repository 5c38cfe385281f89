import KafkaOnce
import KafkaOnceSQLite
import Testing

/// The application's own statements outside a consumer: no fence, all or nothing.
@Suite struct SQLiteMaintenanceTransactionTests {
    private struct SetupFailure: Error {}

    @Test func committedWritesAreReadByTheNextTransactionAndLeaveTheStoreEmpty() async throws {
        try await withTemporaryDirectory { directory in
            let store = try SQLiteDeduplicationStore(path: directory + "/store.sqlite")
            let inserted = try await store.withMaintenanceTransaction { sql in
                try sql.execute("CREATE TABLE charges (order_id TEXT PRIMARY KEY, amount INTEGER)", [])
                return try sql.execute(
                    "INSERT INTO charges VALUES (?, ?), (?, ?)",
                    [.text("o-1"), .integer(5), .text("o-2"), .integer(7)]
                )
            }
            #expect(inserted == 2)
            let total = try await store.withMaintenanceTransaction { sql in
                try sql.query("SELECT SUM(amount) AS total FROM charges", []).first?["total"]
            }
            #expect(total == .integer(12))
            let statistics = try await store.statistics()
            #expect(statistics.inProgress + statistics.completed + statistics.failed == 0)
            try await store.close()
        }
    }

    @Test func aBodyThatThrowsKeepsNothing() async throws {
        try await withTemporaryDirectory { directory in
            let store = try SQLiteDeduplicationStore(path: directory + "/store.sqlite")
            try await store.withMaintenanceTransaction { sql in
                try sql.execute("CREATE TABLE charges (order_id TEXT PRIMARY KEY)", [])
            }
            await #expect(throws: SetupFailure.self) {
                try await store.withMaintenanceTransaction { sql in
                    try sql.execute("INSERT INTO charges VALUES ('o-1')", [])
                    throw SetupFailure()
                }
            }
            #expect(try await count(store) == .integer(0))
            try await store.close()
        }
    }

    @Test func aBodyThatCommitsItselfIsRefusedAndKeepsNothing() async throws {
        try await withTemporaryDirectory { directory in
            let store = try SQLiteDeduplicationStore(path: directory + "/store.sqlite")
            try await store.withMaintenanceTransaction { sql in
                try sql.execute("CREATE TABLE charges (order_id TEXT PRIMARY KEY)", [])
            }
            let error = await #expect(throws: DeduplicationStoreError.self) {
                try await store.withMaintenanceTransaction { sql in
                    try sql.execute("INSERT INTO charges VALUES ('o-1')", [])
                    _ = try? sql.execute("COMMIT", [])
                }
            }
            #expect(error?.code == .invalidArgument)
            #expect(try await count(store) == .integer(0))
            try await store.close()
        }
    }

    @Test func theExecutorIsRefusedOnceTheBodyReturned() async throws {
        try await withTemporaryDirectory { directory in
            let store = try SQLiteDeduplicationStore(path: directory + "/store.sqlite")
            let escaped = Escaped()
            try await store.withMaintenanceTransaction { sql in escaped.executor = sql }
            let error = #expect(throws: DeduplicationStoreError.self) {
                try escaped.executor?.execute("CREATE TABLE late (id TEXT)", [])
            }
            #expect(error?.code == .closed)
            try await store.close()
        }
    }

    /// Carries the executor out of its body, to show it cannot be used there.
    private final class Escaped: @unchecked Sendable {
        // `@unchecked`: written inside the body on the store's thread, read only after
        // `withMaintenanceTransaction` returned, which orders the two.
        var executor: (any SQLExecutor)?
    }

    private func count(_ store: SQLiteDeduplicationStore) async throws -> SQLValue? {
        try await store.withMaintenanceTransaction { sql in
            try sql.query("SELECT COUNT(*) AS count FROM charges", []).first?["count"]
        }
    }
}
