import KafkaOnce
import KafkaOnceSQLite
import Testing

@Suite struct SQLiteTransactionTests {
    private struct HandlerFailure: Error {}

    /// Carries the transaction out of its body, to show it cannot be used there.
    private final class Escaped: @unchecked Sendable {
        // `@unchecked`: written inside the body on the worker thread, read only after
        // `withTransaction` returned, which orders the two.
        var transaction: (any DeduplicationTransaction)?
    }

    @Test func handlerWritesAndOutcomeCommitTogether() async throws {
        try await withStore { store, fence in
            try await store.withTransaction(fence: fence) { transaction in
                let request = Fixtures.request("order-1")
                let outcomes = try transaction.claim([request], leaseDuration: .seconds(30))
                #expect(outcomes == [.acquired])
                try transaction.execute(
                    "INSERT INTO ledger (id, amount) VALUES (?, ?)",
                    [.text("order-1"), .integer(5)]
                )
                try transaction.finish([Fixtures.completed("order-1")])
            }

            #expect(try await store.record(for: "order-1")?.state == .completed)
            #expect(try await ledger(store, fence) == ["order-1"])
        }
    }

    @Test func claimsCommittedWithoutAnOutcomeStayInProgress() async throws {
        try await withStore { store, fence in
            try await store.withTransaction(fence: fence) { transaction in
                let requests = [Fixtures.request("order-1"), Fixtures.request("order-2")]
                #expect(try transaction.claim(requests, leaseDuration: .seconds(30)) == [.acquired, .acquired])
                // The transaction's own claim, claimed again before its outcome.
                #expect(try transaction.claim([requests[0]], leaseDuration: .seconds(30)) == [.acquired])
                try transaction.finish([Fixtures.completed("order-2")])
            }

            let claimed = try await store.record(for: "order-1")
            #expect(claimed?.state == .inProgress)
            #expect(claimed?.owner == fence.owner)
            #expect(claimed?.epoch == fence.epoch)
            #expect(claimed?.leaseExpiry != nil)
            #expect(try await store.record(for: "order-2")?.state == .completed)
        }
    }

    @Test func claimsOfARolledBackTransactionLeaveNoRecord() async throws {
        try await withStore { store, fence in
            await #expect(throws: HandlerFailure.self) {
                try await store.withTransaction(fence: fence) { transaction in
                    _ = try transaction.claim([Fixtures.request("order-1")], leaseDuration: .seconds(30))
                    throw HandlerFailure()
                }
            }
            #expect(try await store.record(for: "order-1") == nil)
            // Nothing of the first transaction's claim lingers in the next one.
            try await store.withTransaction(fence: fence) { transaction in
                #expect(
                    try transaction.claim([Fixtures.request("order-1")], leaseDuration: .seconds(30)) == [.acquired]
                )
                try transaction.finish([Fixtures.completed("order-1")])
            }
            #expect(try await store.record(for: "order-1")?.state == .completed)
        }
    }

    @Test func throwingBodyRollsBackWritesAndOutcome() async throws {
        try await withStore { store, fence in
            await #expect(throws: HandlerFailure.self) {
                try await store.withTransaction(fence: fence) { transaction in
                    _ = try transaction.claim([Fixtures.request("order-1")], leaseDuration: .seconds(30))
                    try transaction.execute(
                        "INSERT INTO ledger (id, amount) VALUES (?, ?)",
                        [.text("order-1"), .integer(5)]
                    )
                    try transaction.finish([Fixtures.completed("order-1")])
                    throw HandlerFailure()
                }
            }

            let record = try await store.record(for: "order-1")
            #expect(record == nil)
            let rows = try await ledger(store, fence)
            #expect(rows.isEmpty)
        }
    }

    @Test func staleFenceRunsNothing() async throws {
        try await withStore { store, stale in
            _ = try await Fixtures.fence(store, owner: "consumer-2")
            let ran = Flag()

            let error = await storeError(.fenced) {
                try await store.withTransaction(fence: stale) { _ in ran.set() }
            }
            #expect(error?.message.contains("consumer-2") == true)
            #expect(!ran.isSet)
        }
    }

    @Test func transactionIsUnusableAfterItEnds() async throws {
        try await withStore { store, fence in
            let escaped = Escaped()
            try await store.withTransaction(fence: fence) { transaction in escaped.transaction = transaction }

            let transaction = try #require(escaped.transaction)
            let error = await storeError(.closed) { try transaction.execute("DELETE FROM ledger", []) }
            #expect(error?.message.contains("has ended") == true)
        }
    }

    @Test func rollbackToSavepointUndoesOnlyWhatFollowedIt() async throws {
        try await withStore { store, fence in
            try await store.withTransaction(fence: fence) { transaction in
                try transaction.execute("INSERT INTO ledger (id, amount) VALUES ('kept', 1)", [])
                try transaction.savepoint("message \"2\"")
                try transaction.execute("INSERT INTO ledger (id, amount) VALUES ('undone', 2)", [])
                try transaction.rollback(toSavepoint: "message \"2\"")
                try transaction.release(savepoint: "message \"2\"")
            }
            #expect(try await ledger(store, fence) == ["kept"])
        }
    }

    @Test func theStoresOwnSavepointNamesAreRefused() async throws {
        try await withStore { store, fence in
            for name in ["kafka_once_grouped_call", "KAFKA_ONCE_CALL"] {
                let error = await storeError(.invalidArgument) {
                    try await store.withTransaction(fence: fence) { transaction in
                        try transaction.execute("INSERT INTO ledger (id, amount) VALUES ('lost', 1)", [])
                        try transaction.rollback(toSavepoint: name)
                    }
                }
                let refusal = "'\(name)' is the store's own"
                #expect(error?.message.contains(refusal) == true)
            }
            let rows = try await ledger(store, fence)
            #expect(rows.isEmpty)
        }
    }

    @Test func valuesRoundTripThroughStatements() async throws {
        try await withStore { store, fence in
            let values: [SQLValue] = [
                .null, .integer(-42), .real(2.5), .text("naïve \u{0} text"), .blob([0, 255]), .blob([]),
            ]
            let rows = try await store.withTransaction(fence: fence) { transaction in
                try transaction.execute("CREATE TABLE samples (a, b, c, d, e, f)", [])
                try transaction.execute("INSERT INTO samples VALUES (?, ?, ?, ?, ?, ?)", values)
                return try transaction.query("SELECT * FROM samples WHERE b = ?", [.integer(-42)])
            }

            #expect(rows.count == 1)
            #expect(rows.first?.values == values)
            #expect(rows.first?.columns == ["a", "b", "c", "d", "e", "f"])
            #expect(rows.first?["c"] == .real(2.5))
        }
    }

    @Test func malformedStatementIsAnInvalidArgument() async throws {
        try await withStore { store, fence in
            let error = await storeError(.invalidArgument) {
                try await store.withTransaction(fence: fence) { transaction in
                    _ = try transaction.execute("INSERT INTO nowhere VALUES (?)", [.integer(1)])
                }
            }
            #expect(error?.message.contains("no such table: nowhere") == true)
            #expect(
                await storeError(.invalidArgument) {
                    try await store.withTransaction(fence: fence) { _ = try $0.execute("SELECT ?", []) }
                } != nil
            )
        }
    }

    @Test func bodyThatEndsTheTransactionItselfIsRefused() async throws {
        try await withStore { store, fence in
            let error = await storeError(.invalidArgument) {
                try await store.withTransaction(fence: fence) { _ = try $0.execute("COMMIT", []) }
            }
            #expect(error?.message.contains("savepoints") == true)
            let request = Fixtures.request("after")
            let outcomes = try await store.claim([request], fence: fence, leaseDuration: .seconds(1))
            #expect(outcomes == [.acquired])
        }
    }

    // MARK: - Helpers

    /// Runs `body` with a fresh store, a fence on partition 0, and a `ledger` table for the handler.
    private func withStore(
        _ body: (SQLiteDeduplicationStore, PartitionFence) async throws -> Void
    ) async throws {
        try await withTemporaryDirectory { directory in
            let store = try SQLiteDeduplicationStore(path: directory + "/store.sqlite")
            let fence = try await Fixtures.fence(store)
            try await store.withTransaction(fence: fence) { transaction in
                _ = try transaction.execute("CREATE TABLE ledger (id TEXT PRIMARY KEY, amount INTEGER)", [])
            }
            try await body(store, fence)
            try await store.close()
        }
    }

    private func ledger(_ store: SQLiteDeduplicationStore, _ fence: PartitionFence) async throws -> [String] {
        try await store.withTransaction(fence: fence) { transaction in
            try transaction.query("SELECT id FROM ledger ORDER BY id", []).map { row in
                guard case .text(let id) = row["id"] else { return "" }
                return id
            }
        }
    }
}
