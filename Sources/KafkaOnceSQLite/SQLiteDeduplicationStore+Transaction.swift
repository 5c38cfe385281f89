import KafkaOnce

extension SQLiteDeduplicationStore {
    /// Runs `body` in a write transaction on the store's thread, and returns once that transaction
    /// committed: the handler's own statements, the claims and the outcomes commit together or not
    /// at all.
    ///
    /// Calls from different partitions that wait for the store's thread at the same time share one
    /// transaction and one sync (group commit), up to 64 calls, together with waiting
    /// ``finish(_:fence:)`` calls. Each call is isolated from the others of its group by a
    /// savepoint of its own:
    ///
    /// 1. The group's transaction takes the file's write lock (`BEGIN IMMEDIATE`), so no other
    ///    writer can slip in between a fence check and the commit.
    /// 2. The calls run one after another, in the order they arrived. For each, `fence` is checked
    ///    (when it is stale, `body` does not run and this call fails alone), then a savepoint is set.
    /// 3. `body` runs with the transaction: ``/KafkaOnce/DeduplicationTransaction/claim(_:leaseDuration:)``,
    ///    ``/KafkaOnce/DeduplicationTransaction/finish(_:)``, savepoints, and SQL with `?` placeholders. It
    ///    sees what the earlier calls of its group wrote, so a key another partition claimed just
    ///    before is already taken.
    /// 4. When `body` throws, what it wrote is rolled back to its savepoint, and its error reaches
    ///    this caller unchanged; the other calls of the group go on.
    /// 5. The group commits with one full sync, and only then do its callers resume. When the
    ///    transaction cannot begin or commit, or SQLite rolls it back after an I/O error, every
    ///    call of the group fails and nothing is kept.
    ///
    /// - Important: `body` blocks the store's thread, and with it every other call on this store,
    ///   until it returns; keep it to database work. It never runs on the Swift cooperative pool.
    ///   The transaction object must not be used after `body` returns (calls throw
    ///   ``/KafkaOnce/DeduplicationStoreError/Code/closed``).
    /// - Important: `body` must not end the transaction itself with `COMMIT` or `ROLLBACK`: use
    ///   savepoints. The store refuses such a commit, and since the transaction is then gone, the
    ///   whole group is rolled back and every call of it fails with
    ///   ``/KafkaOnce/DeduplicationStoreError/Code/invalidArgument``.
    /// - Throws: ``/KafkaOnce/DeduplicationStoreError/Code/fenced`` when `fence` is stale, or what `body` threw,
    ///   unchanged; ``/KafkaOnce/DeduplicationStoreError/Code/unavailable`` when another process held the lock
    ///   for longer than the busy timeout.
    public func withTransaction<Value: Sendable>(
        fence: PartitionFence,
        _ body: @escaping @Sendable (any DeduplicationTransaction) throws -> Value
    ) async throws -> Value {
        let path = self.path
        return try await commitGrouped(fence: fence, action: "running a transaction for \(fence)") { connection in
            let transaction = SQLiteTransaction(connection: connection, fence: fence)
            defer { transaction.end() }

            let (result, endedTransaction) = connection.refusingCommits {
                Result {
                    let value = try body(transaction)
                    try transaction.writeUnfinishedClaims()
                    return value
                }
            }
            guard endedTransaction else { return try result.get() }

            // The group's transaction is gone, so the whole group fails and nothing of it stays.
            if case .failure(let error) = result, !transaction.endedTransaction {
                // A failed statement made SQLite roll back; the body's error tells which.
                throw SQLiteGroupFailure(ending: error, fence: fence, path: path)
            }
            let error = DeduplicationStoreError(
                .invalidArgument,
                "the body passed to withTransaction for \(fence) on the SQLite store at '\(path)' ended "
                    + "the transaction itself, so every call committed with it was rolled back; use "
                    + "savepoints to undo part of a body, and throw to undo all of it"
            )
            throw SQLiteGroupFailure(callError: error, groupError: error)
        }
    }
}
