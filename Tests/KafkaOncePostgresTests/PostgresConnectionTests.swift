import Foundation
import KafkaOnce
import KafkaOncePostgres
import Testing

@Suite struct PostgresLocationTests {
    @Test func unreachableServerIsUnavailableWithinFiveSeconds() async throws {
        let clock = ContinuousClock()
        let start = clock.now
        let error = await storeError { _ = try await PostgresDeduplicationStore(url: "postgres://127.0.0.1:1/x") }
        #expect(clock.now - start < .seconds(5))
        #expect(error?.code == .unavailable)
        let message = try #require(error?.message)
        #expect(message.hasPrefix("cannot connect to the PostgreSQL store at 'postgres://127.0.0.1:1/x': "))
        #expect(message.hasSuffix("check the URL and that the server is running"))
        #expect(!message.contains("\n"))
    }

    @Test func malformedURLIsAnInvalidArgument() async throws {
        for url in ["", "postgres://localhost/db?no_such_option=1", "not a url"] {
            let error = await storeError { _ = try await PostgresDeduplicationStore(url: url) }
            #expect(error?.code == .invalidArgument, "for '\(url)'")
            #expect(error?.message.contains("\n") == false)
        }
    }

    @Test func passwordsNeverAppearInErrors() async throws {
        let urls = [
            "postgres://app:s3cret@127.0.0.1:1/orders",
            "postgresql://app:s3cret@127.0.0.1:1/orders?password=s3cret&sslmode=disable",
            "host=127.0.0.1 port=1 user=app password='s3 cret' dbname=orders",
            "host=127.0.0.1 port=1 password=s3cret",
        ]
        for url in urls {
            let error = await storeError { _ = try await PostgresDeduplicationStore(url: url) }
            let message = try #require(error?.message)
            #expect(!message.contains("s3cret") && !message.contains("cret'"), "\(message)")
            #expect(message.contains("127.0.0.1"), "\(message)")
        }
    }
}

/// What the store does when its connection dies under it.
@Suite(.postgresServer) struct PostgresReconnectionTests {
    @Test func finishAfterTheBackendWasTerminatedIsDurable() async throws {
        let batch = TestBatch()
        let store = try await PostgresTestServer.makeStore()
        let fence = try await batch.acquire(owner: "consumer-a", on: store)
        try await store.finish([batch.completed("first")], fence: fence)

        try await terminateBackend(of: store)
        try await store.finish([batch.completed("second")], fence: fence)
        try await store.close()

        let reader = try await PostgresTestServer.makeStore()
        #expect(try await reader.record(for: batch.key("first"))?.state == .completed)
        #expect(try await reader.record(for: batch.key("second"))?.state == .completed)
        try await reader.close()
    }

    @Test func claimAfterTheBackendWasTerminatedSucceeds() async throws {
        let batch = TestBatch()
        let store = try await PostgresTestServer.makeStore()
        let fence = try await batch.acquire(owner: "consumer-a", on: store)
        try await terminateBackend(of: store)

        let outcomes = try await store.claim([batch.request("k1")], fence: fence, leaseDuration: .seconds(30))
        #expect(outcomes == [.acquired])
        #expect(try await store.record(for: batch.key("k1"))?.state == .inProgress)
        try await store.close()
    }

    @Test func transactionWhoseConnectionDiesIsUnavailableAndRolledBack() async throws {
        let batch = TestBatch()
        let store = try await PostgresTestServer.makeStore()
        let ledger = try await batch.createLedger(on: store)
        let fence = try await batch.acquire(owner: "consumer-a", on: store)

        let error = await storeError {
            _ = try await store.withTransaction(fence: fence) { transaction in
                try transaction.execute("INSERT INTO \(ledger) (id, amount) VALUES ('p1', 1)", [])
                try transaction.finish([batch.completed("k1")])
                _ = try transaction.query("SELECT pg_terminate_backend(pg_backend_pid())", [])
            }
        }
        #expect(error?.code == .unavailable)
        #expect(error?.message.contains("retry the whole batch") == true)

        // The next call reconnects; the transaction left nothing behind.
        let rows = try await store.executeAsAdministrator("SELECT count(*) AS n FROM \(ledger)")
        #expect(rows.first?["n"] == .integer(0))
        #expect(try await store.record(for: batch.key("k1")) == nil)
        try await store.close()
    }

    /// Ends the server process behind `store`'s connection, from another connection.
    private func terminateBackend(of store: PostgresDeduplicationStore) async throws {
        let rows = try await store.executeAsAdministrator("SELECT pg_backend_pid() AS pid")
        let pid = try #require(rows.first?["pid"])
        let killer = try await PostgresTestServer.makeStore()
        let done = try await killer.executeAsAdministrator("SELECT pg_terminate_backend($1::integer) AS done", [pid])
        #expect(done.first?["done"] == .integer(1))
        try await killer.close()
    }
}
