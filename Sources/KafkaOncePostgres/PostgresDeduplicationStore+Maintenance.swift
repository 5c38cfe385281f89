import CLibPQ
import KafkaOnce

// MARK: - The application's own statements, outside a consumer

extension PostgresDeduplicationStore {
    /// Runs `body` in a PostgreSQL transaction of its own on the store's connection, outside any
    /// consumer, and commits it when `body` returns.
    ///
    /// Use it for the application's tables, not the store's: to create them before the consumers
    /// start, or to read what the handlers wrote. Unlike ``withTransaction(fence:_:)`` it checks no
    /// partition fence and records nothing, and it runs alone, not grouped with the consumers'
    /// transactions, which wait for it.
    ///
    /// ```swift
    /// try await store.withMaintenanceTransaction { sql in
    ///     try sql.execute("CREATE TABLE IF NOT EXISTS charges (order_id text PRIMARY KEY)", [])
    /// }
    /// ```
    ///
    /// Statements take `$1`, `$2`, … placeholders; one that fails throws
    /// ``PostgresStatementError``. The executor is valid only inside `body`.
    ///
    /// - Important: The transaction is not retried: when the connection is lost, `body`'s work is
    ///   rolled back (or, if it was lost during the commit, may have committed) and the call throws.
    /// - Throws: Whatever `body` throws, after a rollback;
    ///   ``/KafkaOnce/DeduplicationStoreError/Code/invalidArgument`` when `body` returned after
    ///   a statement failed (nothing is committed), or ended the transaction itself (what it
    ///   committed with its own `COMMIT` stays; leave the commit to the store);
    ///   ``/KafkaOnce/DeduplicationStoreError/Code/unavailable`` when the server cannot be reached;
    ///   ``/KafkaOnce/DeduplicationStoreError/Code/closed`` after ``close()``.
    @discardableResult
    public func withMaintenanceTransaction<Value: Sendable>(
        _ body: @escaping @Sendable (any SQLExecutor) throws -> Value
    ) async throws -> Value {
        try await perform("run a maintenance transaction") { [location] session in
            let connection = try session.connected()
            _ = try connection.execute(PostgresStatement("BEGIN"))
            let executor = PostgresMaintenanceExecutor(connection: connection, location: location)
            defer { executor.end() }
            let value: Value
            do {
                value = try body(executor)
            } catch {
                if !connection.isBroken { _ = try? connection.execute(PostgresStatement("ROLLBACK")) }
                throw error
            }
            guard connection.transactionStatus == PQTRANS_INTRANS else {
                if !connection.isBroken { _ = try? connection.execute(PostgresStatement("ROLLBACK")) }
                throw DeduplicationStoreError(
                    .invalidArgument,
                    "the maintenance transaction on the PostgreSQL store at '\(location.redacted)' was not "
                        + "committed: its body ended the transaction, or returned after a statement failed; "
                        + "let failures propagate, and leave COMMIT and ROLLBACK to the store"
                )
            }
            _ = try connection.execute(PostgresStatement("COMMIT"))
            return value
        }
    }
}

/// The statements of a ``PostgresDeduplicationStore/withMaintenanceTransaction(_:)`` body, sent on
/// the store's connection; refused once the body returned.
private final class PostgresMaintenanceExecutor: SQLExecutor {
    private let connection: PostgresConnection
    private let location: PostgresLocation
    private var isActive = true

    init(connection: PostgresConnection, location: PostgresLocation) {
        self.connection = connection
        self.location = location
    }

    func end() {
        isActive = false
    }

    @discardableResult
    func execute(_ sql: String, _ parameters: [SQLValue]) throws -> Int {
        try run(sql, parameters).affectedRows
    }

    func query(_ sql: String, _ parameters: [SQLValue]) throws -> [SQLRow] {
        try run(sql, parameters).sqlRows
    }

    private func run(_ sql: String, _ parameters: [SQLValue]) throws -> PostgresResult {
        guard isActive else {
            throw DeduplicationStoreError(
                .closed,
                "the maintenance transaction has ended; use its executor only inside the body"
            )
        }
        let statement = try PostgresStatement(handlerSQL: sql, parameters)
        do {
            return try connection.execute(statement)
        } catch {
            // `execute` throws only `PostgresFailure`.
            throw PostgresStatementError(error, statement: sql)
                ?? error.storeError("run '\(String(sql.prefix(60)).trimmedLine)'", at: location)
        }
    }
}
