import Foundation
import KafkaOnce
import KafkaOncePostgres
import Synchronization
import Testing

/// A consumer that lost its partition (a zombie) keeps running on its own connection while the
/// new owner takes over on another: the store must refuse everything the zombie tries to record.
@Suite(.postgresServer) struct PostgresFencingTests {
    @Test func zombieFinishIsRefusedAfterTheNewOwnerAcquires() async throws {
        let batch = TestBatch()
        let zombie = try await PostgresTestServer.makeStore()
        let successor = try await PostgresTestServer.makeStore()
        let zombieFence = try await batch.acquire(owner: "consumer-a", on: zombie)
        #expect(
            try await zombie.claim([batch.request("k1")], fence: zombieFence, leaseDuration: .seconds(60)) == [
                .acquired
            ]
        )

        let successorFence = try await batch.acquire(owner: "consumer-b", on: successor)
        #expect(successorFence.epoch == zombieFence.epoch + 1)

        let error = await storeError { try await zombie.finish([batch.completed("k1")], fence: zombieFence) }
        #expect(error?.code == .fenced)
        #expect(error?.message.contains("consumer-b") == true)
        let record = try await successor.record(for: batch.key("k1"))
        #expect(record?.state == .inProgress)
        #expect(record?.owner == "consumer-a")

        let claimError = await storeError {
            _ = try await zombie.claim([batch.request("k2")], fence: zombieFence, leaseDuration: .seconds(60))
        }
        #expect(claimError?.code == .fenced)
        #expect(try await successor.record(for: batch.key("k2")) == nil)
        try await zombie.close()
        try await successor.close()
    }

    @Test func zombieTransactionIsRefusedAndItsInsertRolledBack() async throws {
        let batch = TestBatch()
        let zombie = try await PostgresTestServer.makeStore()
        let successor = try await PostgresTestServer.makeStore()
        let ledger = try await batch.createLedger(on: successor)
        let zombieFence = try await batch.acquire(owner: "consumer-a", on: zombie)
        _ = try await batch.acquire(owner: "consumer-b", on: successor)

        let ran = Mutex(false)
        let error = await storeError {
            _ = try await zombie.withTransaction(fence: zombieFence) { transaction in
                ran.withLock { $0 = true }
                try transaction.execute(
                    "INSERT INTO \(ledger) (id, amount) VALUES ($1, $2)",
                    [.text("p1"), .integer(5)]
                )
                try transaction.finish([batch.completed("k1")])
            }
        }
        #expect(error?.code == .fenced)
        #expect(ran.withLock { $0 } == false)
        let rows = try await successor.executeAsAdministrator("SELECT count(*) AS n FROM \(ledger)")
        #expect(rows.first?["n"] == .integer(0))
        #expect(try await successor.record(for: batch.key("k1")) == nil)
        try await zombie.close()
        try await successor.close()
    }

    @Test func acquireWaitsForThePreviousOwnersOpenTransaction() async throws {
        let batch = TestBatch()
        let previous = try await PostgresTestServer.makeStore()
        let next = try await PostgresTestServer.makeStore()
        let ledger = try await batch.createLedger(on: next)
        let fence = try await batch.acquire(owner: "consumer-a", on: previous)
        let clock = ContinuousClock()
        let started = Mutex<ContinuousClock.Instant?>(nil)

        let transaction = Task {
            try await previous.withTransaction(fence: fence) { transaction in
                try transaction.execute("INSERT INTO \(ledger) (id, amount) VALUES ('p1', 1)", [])
                started.withLock { $0 = clock.now }
                // Holds the transaction open while the other consumer acquires the partition.
                Thread.sleep(forTimeInterval: 0.5)
                try transaction.finish([batch.completed("k1")])
                return clock.now
            }
        }
        while started.withLock({ $0 }) == nil { try await Task.sleep(for: .milliseconds(10)) }
        let nextFence = try await batch.acquire(owner: "consumer-b", on: next)
        let acquiredAt = clock.now
        let committedAt = try await transaction.value

        #expect(acquiredAt >= committedAt)
        #expect(try await next.record(for: batch.key("k1"))?.state == .completed)
        let error = await storeError { _ = try await previous.withTransaction(fence: fence) { _ in 0 } }
        #expect(error?.code == .fenced)
        #expect(nextFence.epoch == fence.epoch + 1)
        try await previous.close()
        try await next.close()
    }
}
