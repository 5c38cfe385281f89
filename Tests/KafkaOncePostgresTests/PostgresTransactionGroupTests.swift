import Foundation
import KafkaOnce
@_spi(Testing) import KafkaOncePostgres
import Synchronization
import Testing

/// Transactions of several partitions that wait for the store's thread together share one
/// PostgreSQL transaction, yet each succeeds or fails on its own.
@Suite(.postgresServer) struct PostgresTransactionGroupTests {
    struct MarkedFailure: Error, Equatable {
        let partition: Int32
    }

    @Test func waitingTransactionsCommitTogether() async throws {
        let batch = TestBatch()
        let store = try await PostgresTestServer.makeStore()
        let fences = try await batch.acquire(0..<6, owner: "consumer-a", on: store)
        let commitsBefore = try await store.committedTransactionGroupCount()

        let results = try await store.runAsOneGroup(fences, batch: batch) { fence, transaction in
            try Self.recordOneMessage(of: fence, in: transaction, batch: batch)
        }

        // One commit for the call that held the thread, one for the six that waited behind it.
        #expect(try await store.committedTransactionGroupCount() - commitsBefore == 2)
        for result in results { #expect(try result.get() == [.acquired]) }
        let keys = fences.map { batch.key("p\($0.partition.partition)") }
        #expect(try await store.finishedKeys(among: keys) == Set(keys))
        try await store.close()
    }

    @Test func staleFenceFailsAloneWhileTheOthersCommit() async throws {
        let batch = TestBatch()
        let zombie = try await PostgresTestServer.makeStore()
        let successor = try await PostgresTestServer.makeStore()
        let fences = try await batch.acquire(0..<4, owner: "consumer-a", on: zombie)
        _ = try await batch.acquire(2, owner: "consumer-b", on: successor)
        let ran = Mutex<Set<Int32>>([])

        let results = try await zombie.runAsOneGroup(fences, batch: batch) { fence, transaction in
            ran.withLock { _ = $0.insert(fence.partition.partition) }
            return try Self.recordOneMessage(of: fence, in: transaction, batch: batch)
        }

        #expect(ran.withLock { $0 } == [0, 1, 3])
        let error = await storeError { _ = try results[2].get() }
        #expect(error?.code == .fenced)
        #expect(error?.message.contains("consumer-b") == true)
        #expect(try await successor.record(for: batch.key("p2")) == nil)
        for partition in [0, 1, 3] {
            #expect(try results[partition].get() == [.acquired])
            #expect(try await successor.record(for: batch.key("p\(partition)"))?.state == .completed)
        }
        try await zombie.close()
        try await successor.close()
    }

    @Test func throwingBodyIsRolledBackAloneAndItsErrorReachesTheCaller() async throws {
        let batch = TestBatch()
        let store = try await PostgresTestServer.makeStore()
        let ledger = try await batch.createLedger(on: store)
        let fences = try await batch.acquire(0..<3, owner: "consumer-a", on: store)

        let results = try await store.runAsOneGroup(fences, batch: batch) { fence, transaction in
            let partition = fence.partition.partition
            let outcomes = try Self.recordOneMessage(of: fence, in: transaction, batch: batch)
            try transaction.execute(
                "INSERT INTO \(ledger) (id, amount) VALUES ($1, 1)",
                [.text("p\(partition)")]
            )
            if partition == 1 { throw MarkedFailure(partition: partition) }
            return outcomes
        }

        #expect(throws: MarkedFailure(partition: 1)) { try results[1].get() }
        #expect(try results[0].get() == [.acquired])
        #expect(try results[2].get() == [.acquired])
        let rows = try await store.executeAsAdministrator("SELECT id FROM \(ledger) ORDER BY id")
        #expect(rows.map { $0["id"] } == [.text("p0"), .text("p2")])
        #expect(try await store.record(for: batch.key("p1")) == nil)
        #expect(try await store.record(for: batch.key("p2"))?.state == .completed)
        try await store.close()
    }

    @Test func statementLeftFailedFailsItsCallAlone() async throws {
        let batch = TestBatch()
        let store = try await PostgresTestServer.makeStore()
        let fences = try await batch.acquire(0..<3, owner: "consumer-a", on: store)

        let results = try await store.runAsOneGroup(fences, batch: batch) { fence, transaction in
            let outcomes = try Self.recordOneMessage(of: fence, in: transaction, batch: batch)
            if fence.partition.partition == 1 {
                _ = try? transaction.execute("INSERT INTO no_such_table VALUES (1)", [])
            }
            return outcomes
        }

        let error = await storeError { _ = try results[1].get() }
        #expect(error?.code == .unavailable)
        #expect(try await store.record(for: batch.key("p1")) == nil)
        for partition in [0, 2] {
            #expect(try results[partition].get() == [.acquired])
            #expect(try await store.record(for: batch.key("p\(partition)"))?.state == .completed)
        }
        try await store.close()
    }

    @Test func lostConnectionFailsEveryCallAndKeepsNothing() async throws {
        let batch = TestBatch()
        let store = try await PostgresTestServer.makeStore()
        let fences = try await batch.acquire(0..<3, owner: "consumer-a", on: store)

        let results = try await store.runAsOneGroup(fences, batch: batch) { fence, transaction in
            let outcomes = try Self.recordOneMessage(of: fence, in: transaction, batch: batch)
            if fence.partition.partition == 1 {
                _ = try transaction.query("SELECT pg_terminate_backend(pg_backend_pid())", [])
            }
            return outcomes
        }

        for result in results {
            let error = await storeError { _ = try result.get() }
            #expect(error?.code == .unavailable)
            #expect(error?.message.contains("retry the whole batch") == true)
        }
        // The next call reconnects; the group left nothing behind.
        let keys = fences.map { batch.key("p\($0.partition.partition)") }
        #expect(try await store.finishedKeys(among: keys).isEmpty)
        try await store.close()
    }

    @Test func bodyThatEndsTheTransactionFailsEveryCallOfItsGroup() async throws {
        let batch = TestBatch()
        let store = try await PostgresTestServer.makeStore()
        let fences = try await batch.acquire(0..<3, owner: "consumer-a", on: store)

        let results = try await store.runAsOneGroup(fences, batch: batch) { fence, transaction in
            let outcomes = try Self.recordOneMessage(of: fence, in: transaction, batch: batch)
            if fence.partition.partition == 1 { try transaction.execute("COMMIT", []) }
            return outcomes
        }

        // Partition 0's work was committed out of turn, so not even its caller may be told it is.
        for result in results {
            let error = await storeError { _ = try result.get() }
            #expect(error?.code == .invalidArgument)
            #expect(error?.message.contains("ended the transaction itself") == true)
        }
        #expect(try await store.record(for: batch.key("p2")) == nil)
        // The connection is usable again for the next group.
        let next = try await store.runAsOneGroup([fences[2]], batch: batch) { fence, transaction in
            try Self.recordOneMessage(of: fence, in: transaction, batch: batch)
        }
        #expect(try next[0].get() == [.acquired])
        try await store.close()
    }

    @Test func transactionOfAnEarlierCallIsClosedForTheNextCall() async throws {
        let batch = TestBatch()
        let store = try await PostgresTestServer.makeStore()
        let fences = try await batch.acquire(0..<2, owner: "consumer-a", on: store)
        let escaped = EscapedGroupTransaction()

        let results = try await store.runAsOneGroup(fences, batch: batch) { fence, transaction in
            guard fence.partition.partition == 1 else {
                escaped.transaction = transaction
                return 0
            }
            return try #require(escaped.transaction).execute("SELECT 1", [])
        }

        let error = await storeError { _ = try results[1].get() }
        #expect(error?.code == .closed)
        try await store.close()
    }

    /// Claims and records the message `p<partition>` of `fence`'s partition.
    private static func recordOneMessage(
        of fence: PartitionFence,
        in transaction: any DeduplicationTransaction,
        batch: TestBatch
    ) throws -> [ClaimOutcome] {
        let partition = fence.partition.partition
        let outcomes = try transaction.claim(
            [batch.request("p\(partition)", partition: partition)],
            leaseDuration: .seconds(30)
        )
        try transaction.finish([batch.completed("p\(partition)", partition: partition)])
        return outcomes
    }
}

extension PostgresDeduplicationStore {
    /// Calls ``withTransaction(fence:_:)`` once for each of `fences` while another transaction
    /// keeps the store's thread busy, so that the calls wait together and run as one group; returns
    /// each call's result, in the order of `fences`.
    fileprivate func runAsOneGroup<Value: Sendable>(
        _ fences: [PartitionFence],
        batch: TestBatch,
        _ body: @escaping @Sendable (PartitionFence, any DeduplicationTransaction) throws -> Value
    ) async throws -> [Result<Value, any Error>] {
        let holderFence = try await batch.acquire(99, owner: "consumer-holder", on: self)
        let holding = Mutex(false)
        let expected = fences.count
        let holder = Task {
            try await withTransaction(fence: holderFence) { [self] _ in
                holding.withLock { $0 = true }
                // A safety bound only: the calls normally queue up within milliseconds.
                let deadline = Date().addingTimeInterval(30)
                while waitingTransactionCount < expected, Date() < deadline {
                    Thread.sleep(forTimeInterval: 0.002)
                }
            }
        }
        while !holding.withLock({ $0 }) { try await Task.sleep(for: .milliseconds(2)) }

        let results = await withTaskGroup(of: (Int, Result<Value, any Error>).self) { group in
            for (index, fence) in fences.enumerated() {
                group.addTask {
                    do {
                        let value = try await self.withTransaction(fence: fence) { try body(fence, $0) }
                        return (index, .success(value))
                    } catch {
                        return (index, .failure(error))
                    }
                }
            }
            var results: [Int: Result<Value, any Error>] = [:]
            for await (index, result) in group { results[index] = result }
            return fences.indices.map { results[$0]! }
        }
        try await holder.value
        return results
    }
}

extension TestBatch {
    /// Acquires each of the partitions `numbers` for `owner` and returns their fences, in order.
    fileprivate func acquire(
        _ numbers: Range<Int32>,
        owner: String,
        on store: some DeduplicationStore
    ) async throws -> [PartitionFence] {
        var fences: [PartitionFence] = []
        for number in numbers { fences.append(try await acquire(number, owner: owner, on: store)) }
        return fences
    }
}

/// Carries a transaction out of its body, to check that it refuses use once its call ended.
///
/// `@unchecked Sendable`: one body stores the transaction and a later body of the same group reads
/// it; the store's thread runs the two one after the other.
private final class EscapedGroupTransaction: @unchecked Sendable {
    var transaction: (any DeduplicationTransaction)?
}
