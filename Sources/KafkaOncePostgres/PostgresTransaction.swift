import Foundation
import KafkaOnce

/// The open transaction that ``PostgresDeduplicationStore/withTransaction(fence:_:)`` hands its body.
///
/// Each call of a group (``PostgresTransactionGroup``) gets one of these for its share of the
/// group's PostgreSQL transaction: everything it sends runs behind the call's own savepoint,
/// ``callSavepoint``, which ``keep()`` releases and ``undo()`` rolls back to.
///
/// Statements use PostgreSQL's `$1`, `$2`, … placeholders. Savepoint and release statements are
/// sent with the next statement rather than on their own, and a savepoint released with nothing
/// run since is never sent, so a message costs one round trip for its savepoint and its writes.
/// The same holds across calls: the previous call's release and this call's savepoint travel with
/// this call's first statement.
///
/// - Important: Every savepoint under which something is written starts a subtransaction: one per
///   call of a group, and one per message whose handler writes. Past 64 of them in one
///   transaction, PostgreSQL's snapshots get slower for every session (the subtransaction cache
///   overflows); on a database shared with latency-sensitive work, prefer handlers that write for
///   few of their messages.
final class PostgresTransaction: DeduplicationTransaction {
    /// The savepoint behind which one call of a group runs.
    static let callSavepoint = "kafka_once_call"

    /// A savepoint statement not yet sent.
    enum DeferredStatement {
        case savepoint(String)
        case release(String)

        var sql: String {
            switch self {
            case .savepoint(let name): "SAVEPOINT \(PostgresTransaction.quoted(name))"
            case .release(let name): "RELEASE SAVEPOINT \(PostgresTransaction.quoted(name))"
            }
        }
    }

    private let connection: PostgresConnection
    private let fence: PartitionFence
    /// The transaction's time on the server, which claims compare lease expiries to.
    private let now: Date
    private let location: PostgresLocation
    private var isActive = true
    private var deferred: [DeferredStatement]
    /// The savepoints the body opened and that are open on the server once `deferred` is sent,
    /// oldest first.
    private var savepoints: [String] = []
    /// What the previous call of the group left unsent, kept for the next call while this one has
    /// sent nothing.
    private let carried: [DeferredStatement]
    /// Whether the call's savepoint reached the server, with the call's first statement.
    private var hasSent = false

    /// Opens one call's share of a group transaction, behind ``callSavepoint``.
    ///
    /// - Parameter carried: The statements the previous call left unsent, which go first.
    init(
        connection: PostgresConnection,
        fence: PartitionFence,
        now: Date,
        location: PostgresLocation,
        carried: [DeferredStatement]
    ) {
        self.connection = connection
        self.fence = fence
        self.now = now
        self.location = location
        self.carried = carried
        deferred = carried + [.savepoint(Self.callSavepoint)]
    }

    // MARK: - Claims and outcomes

    func claim(_ requests: [ClaimRequest], leaseDuration: Duration) throws -> [ClaimOutcome] {
        var claim = try PostgresClaim(requests, fence: fence, leaseDuration: leaseDuration)
        do {
            try claim.absorb(send(claim.lockStatement()))
            try PostgresGroupCommit.resolve(&claim, on: connection)
            let decision = claim.decide(now: now)
            if let write = decision.write { _ = try send(write) }
            return decision.outcomes
        } catch let failure as PostgresFailure {
            throw storeError(failure, claim.action)
        }
    }

    func finish(_ outcomes: [RecordedOutcome]) throws {
        let finish = try PostgresFinish(outcomes, fence: fence)
        do {
            _ = try send(finish.statement())
        } catch let failure as PostgresFailure {
            throw storeError(failure, finish.action)
        }
    }

    // MARK: - The handler's statements

    @discardableResult
    func execute(_ sql: String, _ parameters: [SQLValue]) throws -> Int {
        try run(sql, parameters).affectedRows
    }

    func query(_ sql: String, _ parameters: [SQLValue]) throws -> [SQLRow] {
        try run(sql, parameters).sqlRows
    }

    private func run(_ sql: String, _ parameters: [SQLValue]) throws -> PostgresResult {
        let statement = try PostgresStatement(handlerSQL: sql, parameters)
        do {
            return try send(statement)
        } catch let failure as PostgresFailure {
            throw PostgresStatementError(failure, statement: sql)
                ?? storeError(failure, "run '\(String(sql.prefix(60)).trimmedLine)'")
        }
    }

    // MARK: - Savepoints

    func savepoint(_ name: String) throws {
        try checkActive()
        try PostgresValidation.text(name, "the savepoint name '\(name)'")
        // A savepoint of the same name would take the place of the call's in its rollback.
        guard name != Self.callSavepoint else {
            throw DeduplicationStoreError(
                .invalidArgument,
                "the savepoint name '\(name)' is the store's own; "
                    + "choose another name for the handler's savepoints"
            )
        }
        deferred.append(.savepoint(name))
        savepoints.append(name)
    }

    func rollback(toSavepoint name: String) throws {
        let index = try openSavepoint(name)
        let isNewest = index == savepoints.count - 1
        savepoints.removeSubrange((index + 1)...)
        // Nothing ran since the savepoint was asked for: there is nothing to undo.
        if case .savepoint(name) = deferred.last, isNewest { return }
        do {
            _ = try send(PostgresStatement("ROLLBACK TO SAVEPOINT \(Self.quoted(name))"))
        } catch let failure as PostgresFailure {
            throw storeError(failure, "roll back to savepoint '\(name)'")
        }
    }

    func release(savepoint name: String) throws {
        let index = try openSavepoint(name)
        let isNewest = index == savepoints.count - 1
        savepoints.removeSubrange(index...)
        if case .savepoint(name) = deferred.last, isNewest {
            deferred.removeLast()
        } else {
            deferred.append(.release(name))
        }
    }

    private func openSavepoint(_ name: String) throws -> Int {
        try checkActive()
        guard let index = savepoints.lastIndex(of: name) else {
            throw DeduplicationStoreError(
                .invalidArgument,
                "there is no savepoint '\(name)' in this transaction; call savepoint(\"\(name)\") first"
            )
        }
        return index
    }

    // MARK: - Ending the call

    /// Ends the call, keeping what it did, and returns the statements left for the next call or
    /// the commit to send: the release of ``callSavepoint``, which also releases every savepoint
    /// the body left open.
    func keep() -> [DeferredStatement] {
        isActive = false
        return hasSent ? [.release(Self.callSavepoint)] : carried
    }

    /// Ends the call, undoing what it did, and returns the statements left for the next call or
    /// the commit to send.
    ///
    /// - Throws: ``PostgresFailure`` when the rollback to ``callSavepoint`` failed; only a lost
    ///   connection does that, and the group's transaction is then gone.
    func undo() throws(PostgresFailure) -> [DeferredStatement] {
        isActive = false
        // Nothing reached the server: there is nothing to undo.
        guard hasSent else { return carried }
        // What the body left unsent concerns savepoints inside the call's, which the rollback
        // drops as well.
        deferred.removeAll()
        let name = Self.quoted(Self.callSavepoint)
        _ = try connection.pipeline([
            PostgresStatement("ROLLBACK TO SAVEPOINT \(name)"),
            PostgresStatement("RELEASE SAVEPOINT \(name)"),
        ])
        return []
    }

    /// The error of a call whose body returned after one of its statements failed, leaving the
    /// transaction aborted, without rolling back to a savepoint of its own.
    var abortedError: DeduplicationStoreError {
        DeduplicationStoreError(
            .unavailable,
            "the transaction for \(fence.partition) was rolled back, not committed: a statement in it failed "
                + "and the transaction was not rolled back to a savepoint after it; nothing in it was recorded"
        )
    }

    // MARK: - Sending

    /// Sends the deferred savepoint statements and `statement` in one round trip.
    private func send(_ statement: PostgresStatement) throws -> PostgresResult {
        try checkActive()
        let statements = deferred.map { PostgresStatement($0.sql) } + [statement]
        deferred.removeAll()
        hasSent = true
        return try connection.pipeline(statements).last!
    }

    private func checkActive() throws(DeduplicationStoreError) {
        guard isActive else {
            throw DeduplicationStoreError(
                .closed,
                "the transaction for \(fence.partition) has ended; use it only inside the body of withTransaction"
            )
        }
    }

    private func storeError(_ failure: PostgresFailure, _ action: String) -> DeduplicationStoreError {
        guard failure.isConnectionLost else { return failure.storeError(action, at: location) }
        return DeduplicationStoreError(
            .unavailable,
            "cannot \(action) in the transaction for \(fence.partition) on the PostgreSQL store at "
                + "'\(location.redacted)': \(failure.message); the server rolled the transaction back, "
                + "so retry the whole batch"
        )
    }

    /// `name` as a quoted SQL identifier.
    static func quoted(_ name: String) -> String {
        "\"" + name.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
