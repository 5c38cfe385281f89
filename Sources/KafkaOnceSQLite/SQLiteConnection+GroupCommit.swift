import KafkaOnce

/// One call waiting for the next group commit: a
/// ``SQLiteDeduplicationStore/claim(_:fence:leaseDuration:)``, a
/// ``SQLiteDeduplicationStore/finish(_:fence:)``, a
/// ``SQLiteDeduplicationStore/release(_:fence:)`` or a
/// ``SQLiteDeduplicationStore/withTransaction(fence:_:)``.
struct SQLiteGroupedCall: Sendable {
    /// Checked inside the group's transaction before the call writes anything.
    var fence: PartitionFence
    /// What the call does, as a gerund phrase, for error messages.
    var action: String
    /// The call's writes, run on the worker thread inside the call's own savepoint. Returns what
    /// resumes the caller, to be run once the group has committed.
    var write: @Sendable (SQLiteConnection) throws -> @Sendable () -> Void
    /// Resumes the caller with an error; nothing of the call was kept.
    var fail: @Sendable (any Error) -> Void
}

/// Thrown when a call leaves its group's transaction unable to commit: the call fails with
/// `callError`, every other call of the group with `groupError`, and nothing is kept.
struct SQLiteGroupFailure: Error {
    var callError: any Error
    var groupError: any Error
}

extension SQLiteGroupFailure {
    /// The failure after `error`, raised by the call for `fence`, ended the transaction.
    ///
    /// The other calls get an error that names the call that failed. When `error` is a store
    /// error, they share its code, since what broke the transaction (a full disk, say) concerns
    /// them too. Any other error is the call's own (its body's), and its type could mislead their
    /// callers, so they get a retriable store error instead: nothing of theirs was kept.
    init(ending error: any Error, fence: PartitionFence, path: String) {
        self.callError = error
        let cause =
            "the transaction on the SQLite store at '\(path)' was rolled back when the call for \(fence), "
            + "committed in the same transaction, failed"
        if let storeError = error as? DeduplicationStoreError {
            self.groupError = DeduplicationStoreError(
                storeError.code,
                "\(cause); nothing of this call was kept. The failure: \(storeError.message)"
            )
        } else {
            self.groupError = DeduplicationStoreError(
                .unavailable,
                "\(cause) (\(error)); nothing of this call was kept, retry it"
            )
        }
    }
}

extension SQLiteConnection {
    /// The most calls one group transaction takes.
    ///
    /// 64 holds one call from each partition of a consumer with up to 64 partitions, so one sync
    /// serves them all; it also bounds how long the first caller of a group waits for the others'
    /// writes, and how much the group's savepoints keep to undo.
    static let groupLimit = 64

    /// The savepoint each call of a group runs in. No other savepoint of the store has this name,
    /// and a body may not use it (``reservedSavepoints``), so nothing else is mistaken for it.
    static let groupedCallSavepoint = "kafka_once_grouped_call"
    private static let setCallSavepoint = "SAVEPOINT \(groupedCallSavepoint)"
    private static let releaseCallSavepoint = "RELEASE \(groupedCallSavepoint)"
    private static let undoCall = "ROLLBACK TO \(groupedCallSavepoint)"

    /// Runs `calls` in one write transaction with one sync, then resumes every caller.
    ///
    /// For each call, in order: its fence is checked, a savepoint is set, its writes run, and the
    /// savepoint is released. A call whose fence is stale or whose writes throw is rolled back to
    /// its savepoint and fails alone; the others commit. Every caller resumes only after the
    /// commit. When the transaction cannot begin or commit, or a call ends it, every call fails and
    /// nothing is kept.
    func commitGroup(_ calls: [SQLiteGroupedCall]) {
        var outcomes: [Result<@Sendable () -> Void, any Error>] = []
        outcomes.reserveCapacity(calls.count)
        do {
            try inWriteTransaction {
                for call in calls {
                    outcomes.append(try run(call))
                }
            }
            groupCommitCount += 1
        } catch let failure as SQLiteGroupFailure {
            // The call that ended the group is the one after the last outcome.
            for (index, call) in calls.enumerated() {
                call.fail(index == outcomes.count ? failure.callError : failure.groupError)
            }
            return
        } catch {
            let action = calls.count == 1 ? calls[0].action : "committing \(calls.count) calls together"
            let failure = storeError(error, action: action)
            for call in calls {
                call.fail(failure)
            }
            return
        }

        for (call, outcome) in zip(calls, outcomes) {
            switch outcome {
            case .success(let resume): resume()
            case .failure(let error): call.fail(error)
            }
        }
    }

    /// Runs one call of a group in its own savepoint.
    ///
    /// - Returns: The call's resumption, or the error it fails with alone.
    /// - Throws: What ends the whole group: an ``SQLiteGroupFailure``, or a failure of the
    ///   savepoint statements, after which what the call left is unknown.
    private func run(_ call: SQLiteGroupedCall) throws -> Result<@Sendable () -> Void, any Error> {
        do {
            try checkFence(call.fence)
        } catch {
            return .failure(try failingAlone(call, error))
        }
        try prepared(Self.setCallSavepoint).run()

        do {
            let resume = try call.write(self)
            try prepared(Self.releaseCallSavepoint).run()
            return .success(resume)
        } catch let failure as SQLiteGroupFailure {
            throw failure
        } catch {
            let failure = try failingAlone(call, error)
            try prepared(Self.undoCall).run()
            try prepared(Self.releaseCallSavepoint).run()
            return .failure(failure)
        }
    }

    /// The error `call` fails with alone.
    ///
    /// - Throws: An ``SQLiteGroupFailure`` when `error` ended the transaction, as some I/O errors
    ///   do: then no call's writes stay.
    private func failingAlone(_ call: SQLiteGroupedCall, _ error: any Error) throws -> any Error {
        let described = storeError(error, action: call.action)
        guard isInTransaction else {
            throw SQLiteGroupFailure(ending: described, fence: call.fence, path: path)
        }
        return described
    }

    /// Runs `body` while commits are refused, so that nothing `body` does can end the group's
    /// transaction with its writes kept.
    ///
    /// A `COMMIT` that `body` issues is turned into a rollback, and so is any statement it runs
    /// after its transaction ended.
    ///
    /// - Returns: What `body` returned, and whether the transaction ended while it ran.
    func refusingCommits<Value>(_ body: () -> Value) -> (value: Value, endedTransaction: Bool) {
        transactionEnded = false
        refusesCommits = true
        defer { refusesCommits = false }

        let value = body()
        return (value, transactionEnded || !isInTransaction)
    }
}
