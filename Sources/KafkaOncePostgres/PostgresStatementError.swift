import KafkaOnce

/// A statement that a handler ran through a ``PostgresDeduplicationStore`` transaction failed on the server.
///
/// Match ``sqlState`` to react to a particular failure, such as a unique violation:
///
/// ```swift
/// do {
///     try context.transaction.execute("INSERT INTO payments (id) VALUES ($1)", [.text(id)])
/// } catch let error as PostgresStatementError where error.sqlState == "23505" {
///     // Already applied by an earlier delivery.
/// }
/// ```
///
/// - Important: A failed statement aborts the whole PostgreSQL transaction. Roll back to a
///   savepoint taken before the statement (the runtime takes one before each message) before running
///   anything else in it; otherwise the transaction is rolled back and nothing in it is recorded.
public struct PostgresStatementError: Error, Sendable, CustomStringConvertible {
    /// The five-character SQLSTATE code, such as `23505` for a unique violation.
    public var sqlState: String
    /// The server's message.
    public var message: String
    /// The statement, shortened to its first 200 characters.
    public var statement: String

    /// Creates the error for `statement`, which failed with `sqlState` and `message`.
    public init(sqlState: String, message: String, statement: String) {
        self.sqlState = sqlState
        self.message = message
        self.statement = String(statement.prefix(200))
    }

    /// The statement, the server's message and its SQLSTATE, and what to do, on one line.
    public var description: String {
        "the statement '\(statement.trimmedLine)' failed: \(message) (SQLSTATE \(sqlState)); "
            + "roll back to a savepoint before running more statements in this transaction"
    }
}

extension PostgresStatementError {
    /// The error of a handler's `statement` that the server refused, or `nil` when `failure` is not
    /// the server's verdict on the statement (the connection was lost, or libpq failed).
    init?(_ failure: PostgresFailure, statement: String) {
        guard let sqlState = failure.sqlState, !failure.isConnectionLost else { return nil }
        self.init(sqlState: sqlState, message: failure.message, statement: statement)
    }
}

extension PostgresStatement {
    /// A statement of the application's own, with `$1`, `$2`, … placeholders.
    ///
    /// - Throws: ``/KafkaOnce/DeduplicationStoreError/Code/invalidArgument`` when the statement or
    ///   a text parameter holds a NUL character, which PostgreSQL cannot take.
    init(handlerSQL sql: String, _ parameters: [SQLValue]) throws(DeduplicationStoreError) {
        try PostgresValidation.text(sql, "the statement '\(sql.prefix(60))'")
        for case .text(let value) in parameters {
            try PostgresValidation.text(value, "a text parameter of '\(sql.prefix(60))'")
        }
        self.init(sql, parameters.map(\.postgresParameter))
    }
}
