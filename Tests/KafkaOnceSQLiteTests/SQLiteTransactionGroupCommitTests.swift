import Foundation
import KafkaOnce
@_spi(Testing) import KafkaOnceSQLite
import Testing

/// Concurrent `withTransaction` calls share one transaction; each still succeeds or fails alone.
@Suite(.timeLimit(.minutes(1)))
struct SQLiteTransactionGroupCommitTests {
    /// Thrown by a body; `id` tells whether the caller got this very error back.
    private struct HandlerFailure: Error, Equatable {
        let id = UUID()
    }

    @Test func concurrentTransactionsShareOneCommitAndAStaleFenceFailsAlone() async throws {
        try await withGroupStore(partitions: 8) { store, fences in
            let zombie = PartitionFence(partition: fences[0].partition, owner: "consumer-1", epoch: 1)
            _ = try await store.acquire([fences[0].partition], owner: "consumer-1")
            let current = PartitionFence(partition: fences[0].partition, owner: "consumer-1", epoch: 2)
            let live = [current] + fences[1...]
            let before = try await store.groupCommitCount()

            let results = try await holdingWorker(of: store, until: live.count + 1) {
                await withTaskGroup(of: (Int, Result<Void, any Error>).self) { group in
                    for (index, fence) in live.enumerated() {
                        group.addTask { (index, await Self.recordWithLedger(store, fence, keys: 20)) }
                    }
                    group.addTask { (-1, await Self.recordWithLedger(store, zombie, keys: 1, prefix: "zombie")) }
                    return await group.reduce(into: [Int: Result<Void, any Error>]()) { $0[$1.0] = $1.1 }
                }
            }

            #expect(storeCode(results[-1]) == .fenced)
            #expect((0..<8).allSatisfy { (try? results[$0]?.get()) != nil })
            // The holding call's transaction, then one for the nine calls.
            #expect(try await store.groupCommitCount() - before == 2)
            #expect(try await store.record(for: "zombie-0") == nil)
            #expect(try await store.statistics().completed == 160)
            #expect(try await ledgerCount(store, fences[1]) == 160)
        }
    }

    @Test func throwingBodyIsRolledBackAloneAndItsErrorReachesItsCaller() async throws {
        try await withGroupStore(partitions: 3) { store, fences in
            let failure = HandlerFailure()
            let before = try await store.groupCommitCount()

            let results = try await holdingWorker(of: store, until: 3) {
                await withTaskGroup(of: (Int, Result<Void, any Error>).self) { group in
                    for (index, fence) in fences.enumerated() {
                        group.addTask {
                            let thrown = index == 1 ? failure : nil
                            return (index, await Self.recordWithLedger(store, fence, keys: 5, throwing: thrown))
                        }
                    }
                    return await group.reduce(into: [Int: Result<Void, any Error>]()) { $0[$1.0] = $1.1 }
                }
            }

            #expect(throws: failure) { try results[1]?.get() }
            #expect((try? results[0]?.get()) != nil)
            #expect((try? results[2]?.get()) != nil)
            #expect(try await store.groupCommitCount() - before == 2)
            #expect(try await store.record(for: "p1-0") == nil)
            #expect(try await store.record(for: "p0-0")?.state == .completed)
            #expect(try await store.record(for: "p2-4")?.state == .completed)
            #expect(try await ledgerCount(store, fences[0]) == 10)
        }
    }

    @Test func bodyErrorReachesItsCallerUnchanged() async throws {
        try await withGroupStore(partitions: 1) { store, fences in
            let failure = HandlerFailure()
            let thrown = await #expect(throws: HandlerFailure.self) {
                try await store.withTransaction(fence: fences[0]) { _ in throw failure }
            }
            #expect(thrown == failure)
        }
    }

    @Test(arguments: ["COMMIT", "ROLLBACK"])
    func bodyEndingTheTransactionFailsItsWholeGroupAndKeepsNothing(_ statement: String) async throws {
        try await withGroupStore(partitions: 3) { store, fences in
            let results = try await holdingWorker(of: store, until: 3) {
                // Queued one at a time, so that the offending body runs between the other two.
                var tasks: [Task<Result<Void, any Error>, Never>] = []
                for (index, fence) in fences.enumerated() {
                    tasks.append(
                        Task {
                            await Self.recordWithLedger(store, fence, keys: 3) { transaction in
                                guard index == 1 else { return }
                                _ = try? transaction.execute(statement, [])
                                _ = try? transaction.execute("INSERT INTO ledger (id) VALUES ('after-end')", [])
                            }
                        }
                    )
                    // The holder lets the group go once the last call waits, so only the others are
                    // waited for.
                    if index < fences.count - 1 {
                        try await waitUntil { store.waitingGroupedCallCount == index + 1 }
                    }
                }
                var results: [Result<Void, any Error>] = []
                for task in tasks {
                    results.append(await task.value)
                }
                return results
            }

            for result in results {
                #expect(storeCode(result) == .invalidArgument)
                #expect(storeMessage(result)?.contains("savepoints") == true)
            }
            #expect(try await store.statistics().completed == 0)
            #expect(try await ledgerCount(store, fences[0]) == 0)

            try await store.withTransaction(fence: fences[0]) { transaction in
                _ = try transaction.claim([Fixtures.request("later")], leaseDuration: .seconds(30))
                try transaction.finish([Fixtures.completed("later")])
            }
            #expect(try await store.record(for: "later")?.state == .completed)
        }
    }

    // MARK: - Helpers

    /// Claims and finishes `keys` keys of the fence's partition, writes one ledger row per key,
    /// runs `more`, and throws `throwing` at the end when it is given.
    private static func recordWithLedger(
        _ store: SQLiteDeduplicationStore,
        _ fence: PartitionFence,
        keys: Int,
        prefix: String? = nil,
        throwing failure: HandlerFailure? = nil,
        _ more: @escaping @Sendable (any DeduplicationTransaction) throws -> Void = { _ in }
    ) async -> Result<Void, any Error> {
        let partition = fence.partition.partition
        let names = (0..<keys).map { "\(prefix ?? "p\(partition)")-\($0)" }
        do {
            try await store.withTransaction(fence: fence) { transaction in
                let requests = names.map { Fixtures.request($0, partition: partition) }
                _ = try transaction.claim(requests, leaseDuration: .seconds(30))
                for name in names {
                    try transaction.execute("INSERT INTO ledger (id) VALUES (?)", [.text(name)])
                }
                try more(transaction)
                try transaction.finish(names.map { Fixtures.completed($0, partition: partition) })
                if let failure { throw failure }
            }
            return .success(())
        } catch {
            return .failure(error)
        }
    }

    /// Runs `calls` while the store's thread is held by a transaction that returns only once
    /// `count` grouped calls wait, so that those calls commit as one group.
    private func holdingWorker<Value: Sendable>(
        of store: SQLiteDeduplicationStore,
        until count: Int,
        _ calls: () async throws -> Value
    ) async throws -> Value {
        let fence = try await Fixtures.fence(store, partition: 99)
        let started = Flag()
        let holder = Task {
            try await store.withTransaction(fence: fence) { _ in
                started.set()
                let deadline = Date().addingTimeInterval(20)
                while store.waitingGroupedCallCount < count && Date() < deadline {
                    usleep(1_000)
                }
            }
        }
        try await waitUntil { started.isSet }

        let value = try await calls()
        try await holder.value
        return value
    }

    /// A store with a `ledger` table and `partitions` acquired partitions, and their fences.
    private func withGroupStore(
        partitions: Int,
        _ body: (SQLiteDeduplicationStore, [PartitionFence]) async throws -> Void
    ) async throws {
        try await withTemporaryDirectory { directory in
            let store = try SQLiteDeduplicationStore(path: directory + "/store.sqlite")
            var fences: [PartitionFence] = []
            for number in 0..<partitions {
                fences.append(try await Fixtures.fence(store, partition: Int32(number)))
            }
            try await store.withTransaction(fence: fences[0]) { transaction in
                _ = try transaction.execute("CREATE TABLE ledger (id TEXT PRIMARY KEY)", [])
            }
            try await body(store, fences)
            try await store.close()
        }
    }

    private func ledgerCount(_ store: SQLiteDeduplicationStore, _ fence: PartitionFence) async throws -> Int64 {
        try await store.withTransaction(fence: fence) { transaction in
            let rows = try transaction.query("SELECT COUNT(*) AS count FROM ledger", [])
            guard case .integer(let count) = rows.first?["count"] else { return -1 }
            return count
        }
    }

    /// Polls `condition` until it holds, for at most ten seconds.
    private func waitUntil(_ condition: () -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(10)
        while !condition() && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(1))
        }
    }

    private func storeCode(_ result: Result<Void, any Error>?) -> DeduplicationStoreError.Code? {
        guard case .failure(let error as DeduplicationStoreError) = result else { return nil }
        return error.code
    }

    private func storeMessage(_ result: Result<Void, any Error>?) -> String? {
        guard case .failure(let error as DeduplicationStoreError) = result else { return nil }
        return error.message
    }
}
