import KafkaOnce

/// What the harness tests: a handler, and the store it runs with.
///
/// ```swift
/// let subject = ChaosSubject.transactional(
///     store: { try SQLiteDeduplicationStore(path: temporaryPath()) },
///     dialect: .sqlite
/// ) { message, context, ledger in
///     try context.transaction.execute("INSERT INTO charges (order_id) VALUES (?)", [.text(orderID(message))])
///     try ledger.record(message, in: context.transaction)
/// }
/// ```
public enum ChaosSubject: Sendable {
    /// A plain handler and a store made fresh for each scenario. The handler calls
    /// ``ChaosLedger/record(_:)`` for each effect.
    case plain(
        store: @Sendable () async throws -> any DeduplicationStore,
        handler: @Sendable (KafkaMessage, MessageContext, ChaosLedger) async throws -> Void
    )
    /// A transactional handler and a SQL store made fresh for each scenario. The handler calls
    /// ``ChaosLedger/record(_:in:)`` with its transaction for each effect.
    case transactional(
        store: @Sendable () async throws -> any TransactionalDeduplicationStore,
        dialect: SQLDialect,
        handler: @Sendable (KafkaMessage, TransactionalContext, ChaosLedger) throws -> Void
    )

    /// A plain subject whose handler only records its effect, on an in-memory store.
    public static let inMemory = ChaosSubject.plain(
        store: { InMemoryDeduplicationStore() },
        handler: { message, _, ledger in ledger.record(message) }
    )

    /// A transactional subject whose handler only records its effect, on `store`.
    public static func recordingEffects(
        in store: @escaping @Sendable () async throws -> any TransactionalDeduplicationStore,
        dialect: SQLDialect
    ) -> ChaosSubject {
        .transactional(store: store, dialect: dialect) { message, context, ledger in
            try ledger.record(message, in: context.transaction)
        }
    }

    var dialect: SQLDialect? {
        if case .transactional(_, let dialect, _) = self { dialect } else { nil }
    }
}
