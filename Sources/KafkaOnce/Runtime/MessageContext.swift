import Synchronization

/// What a handler knows about the message it handles, besides the message itself.
public final class MessageContext: Sendable {
    /// The namespaced idempotency key. Pass it downstream (an `Idempotency-Key` HTTP header, a
    /// unique column) so that an effect repeated after a crash is recognised there too.
    public let idempotencyKey: String
    /// Which attempt this is, starting at 1.
    public let attempt: Int
    /// Whether a previous owner claimed this key and died or lost its partition before recording
    /// an outcome: the effect may already have happened once.
    public let isMaybeApplied: Bool
    private let storedResult = Mutex<[UInt8]?>(nil)

    init(idempotencyKey: String, attempt: Int, isMaybeApplied: Bool) {
        self.idempotencyKey = idempotencyKey
        self.attempt = attempt
        self.isMaybeApplied = isMaybeApplied
    }

    /// Keeps `result` with the key's record; a later duplicate's ``DuplicateHandler`` receives it.
    public func storeResult(_ result: [UInt8]) {
        storedResult.withLock { $0 = result }
    }

    var result: [UInt8]? { storedResult.withLock { $0 } }
}

/// What a transactional handler receives: the context and the store's open transaction.
public struct TransactionalContext {
    /// The namespaced idempotency key.
    public let idempotencyKey: String
    /// Which attempt this is, starting at 1.
    public let attempt: Int
    /// The store's transaction: statements run here commit together with the key's record, or
    /// not at all.
    public let transaction: any SQLExecutor
}

/// Handles one message in plain mode. Throwing makes the message fail this attempt.
public typealias MessageHandler = @Sendable (KafkaMessage, MessageContext) async throws -> Void

/// Handles one message inside the store's transaction. Runs synchronously on the store's thread.
public typealias TransactionalMessageHandler = @Sendable (KafkaMessage, TransactionalContext) throws -> Void

/// Called for a message skipped as a duplicate, with the record of its first processing.
public typealias DuplicateHandler = @Sendable (KafkaMessage, DeduplicationRecord) async -> Void
