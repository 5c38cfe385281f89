import KafkaOnce

// MARK: - Transactional mode

extension PostgresDeduplicationStore {
    /// Runs `body` in a PostgreSQL transaction on the store's thread and returns its value once the
    /// transaction committed.
    ///
    /// Calls made while the store's thread is busy are grouped: up to 64 of them, typically one per
    /// partition, share one PostgreSQL transaction and one commit, so the round trips of `BEGIN`
    /// and `COMMIT` and the wait for the write-ahead log to reach disk are paid once per group.
    /// Each call still stands alone:
    ///
    /// 1. The group begins with one round trip that locks every call's partition row `FOR SHARE`
    ///    and reads its epoch. A call whose fence is stale throws
    ///    ``/KafkaOnce/DeduplicationStoreError/Code/fenced``, and its `body` never runs.
    /// 2. The calls run one after another, each behind a savepoint of its own; `body` gets a
    ///    transaction for its claims, finishes and the handler's statements.
    /// 3. When `body` throws, or returns after one of its statements failed without a rollback to a
    ///    savepoint, the call is rolled back to its savepoint and fails alone; the others go on.
    /// 4. `COMMIT`. Every call that got this far becomes durable together, and only then does any
    ///    caller resume. When the transaction fails as a whole (the connection is lost, or the
    ///    commit is refused), nothing of the group is kept.
    ///
    /// The partition locks are held until the commit, so a new owner's ``acquire(_:owner:)`` waits
    /// for the group, and a zombie's later transaction is refused.
    ///
    /// The handler's statements take `$1`, `$2`, … placeholders, one statement per call. The
    /// transaction is valid only inside `body`: afterwards its calls throw
    /// ``/KafkaOnce/DeduplicationStoreError/Code/closed``. Statements of the handler that fail
    /// throw ``PostgresStatementError``.
    ///
    /// - Important: The calls of a group run one after another on one connection, so a slow
    ///   `body` delays the commit of every call grouped with it.
    /// - Important: `body` must not end the transaction (`COMMIT`, `ROLLBACK`, `END`): that would
    ///   commit or drop the work of the calls grouped with it out of turn. When it does, every
    ///   call of the group that had not failed on its own throws
    ///   ``/KafkaOnce/DeduplicationStoreError/Code/invalidArgument``, and the runtime retries
    ///   their batches: claims already recorded make the retry skip what was kept.
    /// - Throws: ``/KafkaOnce/DeduplicationStoreError/Code/fenced`` for a stale fence;
    ///   ``/KafkaOnce/DeduplicationStoreError/Code/unavailable`` when a statement failed and was
    ///   left without a rollback, or when the transaction was lost (the server rolled it back;
    ///   retry the batch); ``/KafkaOnce/DeduplicationStoreError/Code/closed`` after ``close()``;
    ///   otherwise whatever `body` throws, unchanged.
    @discardableResult
    public func withTransaction<Value: Sendable>(
        fence: PartitionFence,
        _ body: @escaping @Sendable (any DeduplicationTransaction) throws -> Value
    ) async throws -> Value {
        try PostgresValidation.fence(fence)
        try checkOpen()
        return try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Value, any Error>) in
            let call = PostgresPendingTransaction(fence: fence, body: body, continuation: continuation)
            pendingTransactions.append(call)
            let accepted = worker.submit { [self] in runPendingTransactions() }
            if !accepted {
                for waiting in pendingTransactions.take(upTo: .max) { waiting.fail(Self.closedError(location)) }
            }
        }
    }

    /// Runs on the store's thread: runs the calls queued so far as one group, if an earlier job
    /// has not.
    private func runPendingTransactions() {
        let group = pendingTransactions.take(upTo: Self.transactionGroupLimit)
        guard !group.isEmpty else { return }
        guard !session.isClosed else {
            for call in group { call.fail(Self.closedError(location)) }
            return
        }
        PostgresTransactionGroup.run(group, in: session, location: location)
    }

    // MARK: - Inspection for tests

    /// How many `withTransaction` calls wait for the store's thread.
    @_spi(Testing)
    public var waitingTransactionCount: Int { pendingTransactions.count }

    /// How many PostgreSQL transactions have committed `withTransaction` calls since the store
    /// connected.
    @_spi(Testing)
    public func committedTransactionGroupCount() async throws -> Int {
        try await perform("read the number of committed transactions") { $0.committedTransactionGroups }
    }
}
