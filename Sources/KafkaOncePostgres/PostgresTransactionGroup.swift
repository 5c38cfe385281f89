import CLibPQ
import Foundation
import KafkaOnce

/// Runs the ``PostgresDeduplicationStore/withTransaction(fence:_:)`` calls that waited together
/// in one PostgreSQL transaction with one commit.
///
/// 1. One round trip: `BEGIN`, and the partition rows of every call's fence locked `FOR SHARE`
///    (``PostgresFenceCheck``).
/// 2. For each call, in order: a call whose fence is stale gets
///    ``/KafkaOnce/DeduplicationStoreError/Code/fenced`` and its body never runs. The others run
///    their body behind a savepoint of their own (``PostgresTransaction/callSavepoint``), sent with
///    the body's first statement. A body that throws, or that returns with the transaction
///    aborted by one of its statements, is rolled back to that savepoint and fails alone; the
///    savepoint of a body that returns is released with the next call's first statement.
/// 3. One round trip: the last release and `COMMIT`.
///
/// Callers resume only after the commit. When the transaction is lost as a whole (the connection,
/// or the commit, failed), nothing of the group is kept and every call that had not failed on
/// its own gets the error that says so. A body that ends the transaction itself (a handler
/// sending `COMMIT` or `ROLLBACK`) fails every such call with
/// ``/KafkaOnce/DeduplicationStoreError/Code/invalidArgument``, and no call after it runs.
enum PostgresTransactionGroup {
    /// How a call's caller resumes: with the body's value, or with an error.
    private typealias Outcome = Result<@Sendable () -> Void, any Error>

    /// Runs `calls` on the store's thread and resumes every caller.
    static func run(
        _ calls: [PostgresPendingTransaction],
        in session: PostgresSession,
        location: PostgresLocation
    ) {
        let outcomes = runTransaction(calls, in: session, location: location)
        for (call, outcome) in zip(calls, outcomes) {
            switch outcome {
            case .success(let resume): resume()
            case .failure(let error): call.fail(error)
            }
        }
    }

    private static func runTransaction(
        _ calls: [PostgresPendingTransaction],
        in session: PostgresSession,
        location: PostgresLocation
    ) -> [Outcome] {
        let connection: PostgresConnection
        let fences: PostgresFenceCheck
        do {
            // Nothing ran yet, so beginning again after a lost connection is safe.
            (connection, fences) = try session.retrying { connection in
                (connection, try begin(calls.map(\.fence), on: connection))
            }
        } catch {
            return calls.map { call in
                let action = "begin a transaction for \(call.fence.partition)"
                return .failure((error as? PostgresFailure)?.storeError(action, at: location) ?? error)
            }
        }

        var outcomes: [Outcome] = []
        do {
            var carried: [PostgresTransaction.DeferredStatement] = []
            for call in calls {
                if let violation = fences.violation(of: call.fence, at: location) {
                    outcomes.append(.failure(violation))
                    continue
                }
                let transaction = PostgresTransaction(
                    connection: connection,
                    fence: call.fence,
                    now: fences.now ?? Date(),
                    location: location,
                    carried: carried
                )
                let outcome: Outcome
                (outcome, carried) = try runCall(call, in: transaction, on: connection, location: location)
                outcomes.append(outcome)
            }
            try commit(carried, on: connection)
            session.committedTransactionGroups += 1
            return outcomes
        } catch {
            if !connection.isBroken, connection.transactionStatus != PQTRANS_IDLE {
                _ = try? connection.execute(PostgresStatement("ROLLBACK"))
            }
            // A call that failed on its own keeps its error; the others lost their work.
            return calls.indices.map { index in
                if index < outcomes.count, case .failure = outcomes[index] { return outcomes[index] }
                return .failure(lostError(error, for: calls[index].fence, at: location))
            }
        }
    }

    /// Runs one call's body and keeps or undoes what it did.
    ///
    /// - Returns: How the caller resumes, and the statements left for the next call to send.
    /// - Throws: ``PostgresFailure`` when the group's transaction is lost; the error for every
    ///   call of the group when the body ended the transaction itself.
    private static func runCall(
        _ call: PostgresPendingTransaction,
        in transaction: PostgresTransaction,
        on connection: PostgresConnection,
        location: PostgresLocation
    ) throws -> (Outcome, [PostgresTransaction.DeferredStatement]) {
        let outcome = Outcome { try call.run(transaction) }
        guard !connection.isBroken else {
            throw PostgresFailure(message: "the connection was lost", isConnectionLost: true)
        }
        guard connection.transactionStatus != PQTRANS_IDLE else {
            // The body committed or rolled back the group's transaction: what the group did so far
            // is out of its hands, so no caller may be told its work is recorded.
            throw endedByBodyError(call.fence, at: location)
        }
        switch outcome {
        case .success where connection.transactionStatus == PQTRANS_INERROR:
            let carried = try transaction.undo()
            return (.failure(transaction.abortedError), carried)
        case .success:
            return (outcome, transaction.keep())
        case .failure:
            // The body's error reaches its caller unchanged: the runtime recognises its own.
            return (outcome, try transaction.undo())
        }
    }

    /// Begins the transaction and locks the partition rows of `fences`.
    private static func begin(
        _ fences: [PartitionFence],
        on connection: PostgresConnection
    ) throws(PostgresFailure) -> PostgresFenceCheck {
        do throws(PostgresFailure) {
            let results = try connection.pipeline([
                PostgresStatement("BEGIN"),
                PostgresFenceCheck.lockStatement(fences.map(\.partition)),
            ])
            return try PostgresFenceCheck(results[1])
        } catch {
            if !connection.isBroken, connection.transactionStatus != PQTRANS_IDLE {
                _ = try? connection.execute(PostgresStatement("ROLLBACK"))
            }
            throw error
        }
    }

    /// Sends what the last call left unsent, then `COMMIT`, in one round trip.
    private static func commit(
        _ carried: [PostgresTransaction.DeferredStatement],
        on connection: PostgresConnection
    ) throws(PostgresFailure) {
        let statements = carried.map { PostgresStatement($0.sql) } + [PostgresStatement("COMMIT")]
        try PostgresGroupCommit.requireCommit(connection.pipeline(statements).last)
    }

    /// The error of every call of a group whose transaction the body for `fence` ended itself.
    private static func endedByBodyError(
        _ fence: PartitionFence,
        at location: PostgresLocation
    ) -> DeduplicationStoreError {
        DeduplicationStoreError(
            .invalidArgument,
            "the body of withTransaction for \(fence.partition) on the PostgreSQL store at '\(location.redacted)' "
                + "ended the transaction itself (COMMIT, ROLLBACK or END), so the work of the calls grouped "
                + "with it may or may not be recorded; remove transaction control from the handler's statements"
        )
    }

    /// The error of a call whose work was lost with the group's transaction.
    private static func lostError(
        _ error: any Error,
        for fence: PartitionFence,
        at location: PostgresLocation
    ) -> any Error {
        guard let failure = error as? PostgresFailure else { return error }
        guard failure.isConnectionLost else {
            return failure.storeError("commit the transaction for \(fence.partition)", at: location)
        }
        return DeduplicationStoreError(
            .unavailable,
            "the transaction for \(fence.partition) on the PostgreSQL store at '\(location.redacted)' "
                + "was lost: \(failure.message); the server rolled it back, so nothing in it was recorded; "
                + "retry the whole batch"
        )
    }
}
