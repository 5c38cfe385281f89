import KafkaOnce

// MARK: - The application's own statements, outside a consumer

extension SQLiteDeduplicationStore {
    /// Runs `body` in a write transaction of its own on the store's thread, outside any consumer,
    /// and commits it when `body` returns.
    ///
    /// Use it for the application's tables, not the store's: to create them before the consumer
    /// starts, or to read what the handlers wrote. Unlike ``withTransaction(fence:_:)`` it checks no
    /// partition fence and records nothing, and it runs alone, not grouped with the consumers'
    /// transactions, which wait for it.
    ///
    /// ```swift
    /// try await store.withMaintenanceTransaction { sql in
    ///     try sql.execute("CREATE TABLE IF NOT EXISTS charges (order_id TEXT PRIMARY KEY)", [])
    /// }
    /// ```
    ///
    /// Statements take `?` placeholders. The executor is valid only inside `body`.
    ///
    /// - Important: `body` blocks the store's thread, and every other call on this store, until it
    ///   returns.
    /// - Throws: Whatever `body` throws, after a rollback;
    ///   ``/KafkaOnce/DeduplicationStoreError/Code/invalidArgument`` when `body` ended the
    ///   transaction itself (the store refuses its `COMMIT`, and nothing is kept);
    ///   ``/KafkaOnce/DeduplicationStoreError/Code/closed`` after ``close()``.
    @discardableResult
    public func withMaintenanceTransaction<Value: Sendable>(
        _ body: @escaping @Sendable (any SQLExecutor) throws -> Value
    ) async throws -> Value {
        try await perform("running a maintenance transaction") { [path] connection in
            try connection.inWriteTransaction {
                let executor = SQLiteMaintenanceExecutor(connection: connection)
                defer { executor.end() }
                let (value, endedTransaction) = connection.refusingCommits { Result { try body(executor) } }
                let returned = try value.get()
                guard !endedTransaction else {
                    throw DeduplicationStoreError(
                        .invalidArgument,
                        "the maintenance transaction on the SQLite store at '\(path)' was not committed: its "
                            + "body ended the transaction; leave COMMIT and ROLLBACK to the store"
                    )
                }
                return returned
            }
        }
    }
}

/// The statements of a ``SQLiteDeduplicationStore/withMaintenanceTransaction(_:)`` body, run on the
/// store's connection; refused once the body returned.
private final class SQLiteMaintenanceExecutor: SQLExecutor {
    private let connection: SQLiteConnection
    private var isActive = true

    init(connection: SQLiteConnection) {
        self.connection = connection
    }

    func end() {
        isActive = false
    }

    @discardableResult
    func execute(_ sql: String, _ parameters: [SQLValue]) throws -> Int {
        try checkActive()
        return try connection.describingFailures("running '\(sql)'") { try connection.execute(sql, parameters) }
    }

    func query(_ sql: String, _ parameters: [SQLValue]) throws -> [SQLRow] {
        try checkActive()
        return try connection.describingFailures("running '\(sql)'") { try connection.query(sql, parameters) }
    }

    private func checkActive() throws {
        guard isActive else {
            throw DeduplicationStoreError(
                .closed,
                "the maintenance transaction on the SQLite store at '\(connection.path)' has ended; "
                    + "use its executor only inside the body"
            )
        }
    }
}
