import KafkaOnce
import KafkaOncePostgres
import Testing

/// Transactional mode: the handler's writes and the outcome records commit together.
@Suite(.postgresServer) struct PostgresTransactionTests {
    struct HandlerFailure: Error {}

    @Test func handlerWritesAndOutcomesCommitTogether() async throws {
        let batch = TestBatch()
        let store = try await PostgresTestServer.makeStore()
        let ledger = try await batch.createLedger(on: store)
        let fence = try await batch.acquire(owner: "consumer-a", on: store)

        let outcomes = try await store.withTransaction(fence: fence) { transaction in
            let outcomes = try transaction.claim([batch.request("k1", offset: 7)], leaseDuration: .seconds(30))
            try transaction.execute(
                "INSERT INTO \(ledger) (id, amount) VALUES ($1, $2)",
                [.text("p1"), .integer(42)]
            )
            try transaction.finish([batch.completed("k1", offset: 7, result: [1, 2])])
            return outcomes
        }

        #expect(outcomes == [.acquired])
        let rows = try await store.executeAsAdministrator("SELECT id, amount FROM \(ledger)")
        #expect(rows.map { [$0["id"], $0["amount"]] } == [[.text("p1"), .integer(42)]])
        let record = try await store.record(for: batch.key("k1"))
        #expect(record?.state == .completed)
        #expect(record?.result == [1, 2])
        try await store.close()
    }

    @Test func throwingHandlerRollsBackWritesAndOutcomes() async throws {
        let batch = TestBatch()
        let store = try await PostgresTestServer.makeStore()
        let ledger = try await batch.createLedger(on: store)
        let fence = try await batch.acquire(owner: "consumer-a", on: store)

        await #expect(throws: HandlerFailure.self) {
            try await store.withTransaction(fence: fence) { transaction in
                _ = try transaction.claim([batch.request("k1")], leaseDuration: .seconds(30))
                try transaction.execute("INSERT INTO \(ledger) (id, amount) VALUES ('p1', 1)", [])
                try transaction.finish([batch.completed("k1")])
                throw HandlerFailure()
            }
        }

        let rows = try await store.executeAsAdministrator("SELECT count(*) AS n FROM \(ledger)")
        #expect(rows.first?["n"] == .integer(0))
        #expect(try await store.record(for: batch.key("k1")) == nil)
        try await store.close()
    }

    @Test func savepointRollbackUndoesOnlyTheFailedMessage() async throws {
        let batch = TestBatch()
        let store = try await PostgresTestServer.makeStore()
        let ledger = try await batch.createLedger(on: store)
        let fence = try await batch.acquire(owner: "consumer-a", on: store)

        let failures = try await store.withTransaction(fence: fence) { transaction in
            var failures: [String] = []
            for id in ["p1", "p1", "p2"] {
                try transaction.savepoint("message")
                do {
                    try transaction.execute("INSERT INTO \(ledger) (id, amount) VALUES ($1, 1)", [.text(id)])
                } catch let error as PostgresStatementError {
                    failures.append(error.sqlState)
                    try transaction.rollback(toSavepoint: "message")
                }
                try transaction.release(savepoint: "message")
            }
            return failures
        }

        #expect(failures == ["23505"])
        let rows = try await store.executeAsAdministrator("SELECT id FROM \(ledger) ORDER BY id")
        #expect(rows.map { $0["id"] } == [.text("p1"), .text("p2")])
        try await store.close()
    }

    @Test func failedStatementLeftWithoutRollbackCommitsNothing() async throws {
        let batch = TestBatch()
        let store = try await PostgresTestServer.makeStore()
        let ledger = try await batch.createLedger(on: store)
        let fence = try await batch.acquire(owner: "consumer-a", on: store)

        let error = await storeError {
            _ = try await store.withTransaction(fence: fence) { transaction in
                try transaction.execute("INSERT INTO \(ledger) (id, amount) VALUES ('p1', 1)", [])
                try transaction.finish([batch.completed("k1")])
                _ = try? transaction.execute("INSERT INTO no_such_table VALUES (1)", [])
            }
        }

        #expect(error?.code == .unavailable)
        let rows = try await store.executeAsAdministrator("SELECT count(*) AS n FROM \(ledger)")
        #expect(rows.first?["n"] == .integer(0))
        #expect(try await store.record(for: batch.key("k1")) == nil)
        try await store.close()
    }

    @Test func queryReadsValuesByColumnType() async throws {
        let batch = TestBatch()
        let store = try await PostgresTestServer.makeStore()
        let fence = try await batch.acquire(owner: "consumer-a", on: store)

        let row = try await store.withTransaction(fence: fence) { transaction in
            try transaction.query(
                """
                SELECT 1::int2 AS small, 2::int4 AS regular, $1::int8 AS big, $2::float8 AS real,
                    2.5::numeric AS decimal, true AS yes, $3::bytea AS bytes, $4::text AS words,
                    $5::text AS nothing, '{1,2}'::int[] AS list
                """,
                [.integer(-3), .real(1.25), .blob([0, 1, 254, 255]), .text("héllo \"quoted\""), .null]
            ).first
        }

        let values = try #require(row)
        #expect(values["small"] == .integer(1))
        #expect(values["regular"] == .integer(2))
        #expect(values["big"] == .integer(-3))
        #expect(values["real"] == .real(1.25))
        #expect(values["decimal"] == .real(2.5))
        #expect(values["yes"] == .integer(1))
        #expect(values["bytes"] == .blob([0, 1, 254, 255]))
        #expect(values["words"] == .text("héllo \"quoted\""))
        #expect(values["nothing"] == .null)
        #expect(values["list"] == .text("{1,2}"))
        try await store.close()
    }

    @Test func transactionIsUnusableAfterItEnds() async throws {
        let batch = TestBatch()
        let store = try await PostgresTestServer.makeStore()
        let fence = try await batch.acquire(owner: "consumer-a", on: store)
        let escaped = EscapedTransaction()

        try await store.withTransaction(fence: fence) { transaction in
            escaped.transaction = transaction
        }

        let error = await storeError {
            _ = try escaped.transaction?.execute("SELECT 1", [])
        }
        #expect(error?.code == .closed)
        try await store.close()
    }
}

/// Smuggles a transaction out of its body, to check that it refuses use afterwards.
///
/// `@unchecked Sendable`: the body stores the transaction once and the test reads it once after
/// `withTransaction` returned, so the two accesses never overlap.
private final class EscapedTransaction: @unchecked Sendable {
    var transaction: (any DeduplicationTransaction)?
}
