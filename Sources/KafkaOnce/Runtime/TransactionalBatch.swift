/// One transaction of transactional mode: claims, the handler's statements and the outcomes of
/// consecutive messages, committed together by the store.
enum TransactionalBatch {
    /// What the transaction did, once committed.
    struct Result: Sendable {
        /// How many leading messages were handled (processed or skipped) in the transaction.
        var handledCount = 0
        /// The claim outcome of each handled message.
        var outcomes: [ClaimOutcome] = []
        /// Why the transaction stopped before the last message, if it did.
        var stop: Stop?
    }

    /// What became of one transaction.
    enum Outcome: Sendable {
        /// Every message of the slice was handled and the transaction committed.
        case committed(Result)
        /// A message needed the runtime; the transaction was rolled back, nothing of it stays.
        case rolledBack(Result)
    }

    /// Thrown out of the store's transaction to roll it back after an early stop.
    struct EarlyStop: Error {
        let result: Result
    }

    /// Why a transaction stopped early; the message at `handledCount` needs the runtime.
    enum Stop: Sendable {
        /// The handler threw; its statements were rolled back to the message's savepoint.
        case handlerFailed(String)
        /// A conflict, whose policy may produce a dead letter outside the transaction.
        case needsAttention(ClaimOutcome)
        /// Another partition's owner holds the key.
        case busy
    }

    private static let savepoint = "kafka_once_message"

    /// Runs inside the store's transaction, on the store's thread.
    static func run(
        _ items: [PreparedMessage],
        in transaction: any DeduplicationTransaction,
        handler: TransactionalMessageHandler,
        leaseDuration: Duration,
        attempt: Int = 1
    ) throws -> Result {
        let claims = try transaction.claim(items.map(\.request), leaseDuration: leaseDuration)
        var result = Result()
        var outcomes: [RecordedOutcome] = []

        for (item, claim) in zip(items, claims) {
            switch claim {
            case .acquired, .abandoned:
                if let error = try runHandler(item, in: transaction, handler: handler, attempt: attempt) {
                    result.stop = .handlerFailed(error)
                } else {
                    outcomes.append(
                        RecordedOutcome(
                            key: item.key,
                            fingerprint: item.fingerprint,
                            origin: item.message.coordinates,
                            kind: .completed(result: nil),
                            attempts: attempt
                        )
                    )
                }
            case .completed, .failed:
                break
            case .conflict:
                result.stop = .needsAttention(claim)
            case .busy:
                result.stop = .busy
            }
            if result.stop != nil { break }
            result.outcomes.append(claim)
            result.handledCount += 1
        }

        if result.stop != nil { throw EarlyStop(result: result) }
        try transaction.finish(outcomes)
        return result
    }

    /// Runs the handler; returns its error after undoing its statements.
    ///
    /// The message's savepoint is opened by the handler's first statement, so a handler that
    /// writes nothing costs none.
    private static func runHandler(
        _ item: PreparedMessage,
        in transaction: any DeduplicationTransaction,
        handler: TransactionalMessageHandler,
        attempt: Int
    ) throws -> String? {
        let statements = HandlerStatements(transaction: transaction, savepoint: savepoint)
        let handlerError: (any Error)?
        do {
            try handler(
                item.message,
                TransactionalContext(idempotencyKey: item.key, attempt: attempt, transaction: statements)
            )
            handlerError = nil
        } catch {
            handlerError = error
        }
        // A savepoint the store refused is the store's failure, whatever the handler made of it:
        // the transaction is in doubt, so no outcome of the batch may be recorded from it.
        if let storeError = statements.savepointError { throw storeError }
        guard let handlerError else {
            if statements.hasSavepoint { try transaction.release(savepoint: savepoint) }
            return nil
        }
        if statements.hasSavepoint {
            try transaction.rollback(toSavepoint: savepoint)
            try transaction.release(savepoint: savepoint)
        }
        return "\(handlerError)"
    }
}

/// The transaction as one message's handler sees it: its statements only, behind a savepoint
/// opened when the first one runs.
///
/// Used on the store's thread only, while the handler runs.
private final class HandlerStatements: SQLExecutor {
    private let transaction: any DeduplicationTransaction
    private let savepoint: String
    private(set) var hasSavepoint = false
    /// The store's error when opening the savepoint failed, whatever the handler made of it.
    private(set) var savepointError: (any Error)?

    init(transaction: any DeduplicationTransaction, savepoint: String) {
        self.transaction = transaction
        self.savepoint = savepoint
    }

    @discardableResult
    func execute(_ sql: String, _ parameters: [SQLValue]) throws -> Int {
        try openSavepoint()
        return try transaction.execute(sql, parameters)
    }

    func query(_ sql: String, _ parameters: [SQLValue]) throws -> [SQLRow] {
        try openSavepoint()
        return try transaction.query(sql, parameters)
    }

    private func openSavepoint() throws {
        guard !hasSavepoint else { return }
        do {
            try transaction.savepoint(savepoint)
        } catch {
            savepointError = error
            throw error
        }
        hasSavepoint = true
    }
}
