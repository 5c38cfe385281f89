import KafkaOnce

extension SQLiteDeduplicationStore {
    /// Runs `body` in one write transaction on the store's thread, and commits it when `body`
    /// returns: the handler's own statements, the claims and the outcomes commit together or not
    /// at all.
    ///
    /// 1. The transaction takes the file's write lock (`BEGIN IMMEDIATE`), so no other writer can
    ///    slip in between the fence check and the commit.
    /// 2. `fence` is checked; when it is stale, `body` does not run.
    /// 3. `body` runs with the transaction: ``DeduplicationTransaction/claim(_:leaseDuration:)``,
    ///    ``DeduplicationTransaction/finish(_:)``, savepoints, and SQL with `?` placeholders.
    /// 4. When `body` returns, the transaction commits with a full sync; when it throws, everything
    ///    is rolled back and the error is rethrown.
    ///
    /// - Important: `body` blocks the store's thread, and with it every other call on this store,
    ///   until it returns; keep it to database work. The transaction object must not be used after
    ///   `body` returns (calls throw ``DeduplicationStoreError/Code/closed``), nor may `body` end
    ///   the transaction itself with `COMMIT` or `ROLLBACK`: use savepoints.
    /// - Throws: ``DeduplicationStoreError/Code/fenced`` when `fence` is stale, or what `body` threw.
    public func withTransaction<Value: Sendable>(
        fence: PartitionFence,
        _ body: @escaping @Sendable (any DeduplicationTransaction) throws -> Value
    ) async throws -> Value {
        let path = self.path
        return try await perform("running a transaction for \(fence.partition)") { connection in
            try connection.inWriteTransaction {
                try connection.checkFence(fence)
                let transaction = SQLiteTransaction(connection: connection, fence: fence)
                defer { transaction.end() }

                let value = try body(transaction)
                guard connection.isInTransaction else {
                    throw DeduplicationStoreError(
                        .invalidArgument,
                        "the body passed to withTransaction on the SQLite store at '\(path)' ended the "
                            + "transaction itself; use savepoints to undo part of it, and throw to undo all"
                    )
                }
                return value
            }
        }
    }
}
