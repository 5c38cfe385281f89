import CLibPQ
import Foundation
import KafkaOnce

// MARK: - Transactional mode

extension PostgresDeduplicationStore {
    /// Runs `body` in one PostgreSQL transaction on the store's thread and commits it when `body`
    /// returns.
    ///
    /// 1. `BEGIN`, then the partition row is locked `FOR SHARE` and the fence checked; a stale
    ///    fence rolls back and throws before `body` runs.
    /// 2. `body` runs with the transaction: claims, finishes and the handler's statements.
    /// 3. `COMMIT`. Everything `body` did becomes durable together, or, when `body` throws or a
    ///    statement failed without a rollback to a savepoint, nothing does.
    ///
    /// The partition lock is held until the commit, so a new owner's ``acquire(_:owner:)`` waits
    /// for the transaction, and a zombie's later transaction is refused.
    ///
    /// The handler's statements take `$1`, `$2`, … placeholders, one statement per call. The
    /// transaction is valid only inside `body`: afterwards its calls throw
    /// ``DeduplicationStoreError/Code/closed``.
    ///
    /// - Throws: ``DeduplicationStoreError/Code/fenced`` for a stale fence,
    ///   ``DeduplicationStoreError/Code/unavailable`` when the connection was lost during the
    ///   transaction (the server rolled it back; retry the batch), or whatever `body` throws.
    ///   Statements of the handler that fail throw ``PostgresStatementError``.
    @discardableResult
    public func withTransaction<Value: Sendable>(
        fence: PartitionFence,
        _ body: @escaping @Sendable (any DeduplicationTransaction) throws -> Value
    ) async throws -> Value {
        try PostgresValidation.fence(fence)
        return try await perform("begin a transaction for \(fence.partition)") { [location] session in
            let (connection, now) = try session.retrying { connection in
                (connection, try Self.begin(fence, on: connection, location: location))
            }
            let transaction = PostgresTransaction(
                connection: connection,
                fence: fence,
                now: now,
                location: location
            )
            let value: Value
            do {
                value = try body(transaction)
            } catch {
                transaction.rollback()
                throw error
            }
            try transaction.commit()
            return value
        }
    }

    /// Begins a transaction that holds `fence`'s partition row, and returns the transaction's time.
    ///
    /// - Throws: ``DeduplicationStoreError/Code/fenced`` after rolling back when `fence` is stale.
    private static func begin(
        _ fence: PartitionFence,
        on connection: PostgresConnection,
        location: PostgresLocation
    ) throws -> Date {
        do {
            let results = try connection.pipeline([
                PostgresStatement("BEGIN"),
                PostgresFenceCheck.lockStatement([fence.partition]),
            ])
            let check = try PostgresFenceCheck(results[1])
            if let violation = check.violation(of: fence, at: location) { throw violation }
            return check.now ?? Date()
        } catch {
            if !connection.isBroken, connection.transactionStatus != PQTRANS_IDLE {
                _ = try? connection.execute(PostgresStatement("ROLLBACK"))
            }
            throw error
        }
    }
}
