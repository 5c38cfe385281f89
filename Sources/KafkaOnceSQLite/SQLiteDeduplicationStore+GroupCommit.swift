import Foundation
import KafkaOnce

extension SQLiteDeduplicationStore {
    /// Records outcomes and returns when they are on disk.
    ///
    /// Calls from different partitions that arrive while the store is busy are recorded together,
    /// with the claims and ``withTransaction(fence:_:)`` calls waiting at the same time: the worker thread
    /// takes up to 64 waiting calls into one transaction, checks each call's fence inside it, and
    /// syncs once. A call whose fence is stale fails alone, with none of its rows written; the
    /// others commit.
    ///
    /// - Throws: ``/KafkaOnce/DeduplicationStoreError/Code/fenced`` when `fence` is stale;
    ///   ``/KafkaOnce/DeduplicationStoreError/Code/unavailable`` when another process held the lock for longer
    ///   than the busy timeout. Nothing of this call is recorded then.
    public func finish(_ outcomes: [RecordedOutcome], fence: PartitionFence) async throws {
        try await commitGrouped(fence: fence, action: "recording outcomes for \(fence)") { connection in
            try connection.finish(outcomes, fence: fence, now: Date())
        }
    }

    /// Queues a call for the next group commit and returns once that transaction committed.
    ///
    /// - Parameters:
    ///   - fence: Checked inside the group's transaction; when it is stale, `write` does not run.
    ///   - action: What the call does, as a gerund phrase, for error messages.
    ///   - write: The call's writes. It runs on the worker thread, inside the call's own savepoint;
    ///     when it throws, that savepoint is rolled back and the call fails alone with the error.
    /// - Returns: What `write` returned.
    func commitGrouped<Value: Sendable>(
        fence: PartitionFence,
        action: String,
        _ write: @escaping @Sendable (SQLiteConnection) throws -> Value
    ) async throws -> Value {
        let queue = writeQueue
        let box = connectionBox
        let worker = self.worker
        let path = self.path

        return try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Value, any Error>) in
            let call = SQLiteGroupedCall(
                fence: fence,
                action: action,
                write: { connection in
                    let value = try write(connection)
                    return { continuation.resume(returning: value) }
                },
                fail: { continuation.resume(throwing: $0) }
            )
            let queued = queue.enqueue(call) {
                worker.submit { Self.commitWaitingCalls(queue, box, path: path) }
            }
            if !queued {
                continuation.resume(throwing: DeduplicationStoreError.closed(path: path))
            }
        }
    }

    /// Commits the calls that have waited longest in one transaction; runs on the worker thread.
    ///
    /// Each grouped call queues one of these. The first to run takes up to
    /// ``SQLiteConnection/groupLimit`` of the calls that arrived meanwhile, the next ones take what
    /// is left, and the rest find the queue empty and return.
    private static func commitWaitingCalls(
        _ queue: SQLiteWriteQueue,
        _ box: SQLiteConnectionBox,
        path: String
    ) {
        let calls = queue.take(upTo: SQLiteConnection.groupLimit)
        guard !calls.isEmpty else { return }

        guard let connection = box.connection else {
            for call in calls {
                call.fail(DeduplicationStoreError.closed(path: path))
            }
            return
        }
        connection.commitGroup(calls)
    }

    // MARK: - Inspection for tests

    /// How many claim, finish and transaction calls wait for the worker thread.
    @_spi(Testing)
    public var waitingGroupedCallCount: Int { writeQueue.count }

    /// How many group transactions, each holding one or more claim, finish and transaction calls, have
    /// committed since the store opened.
    @_spi(Testing)
    public func groupCommitCount() async throws -> Int {
        try await perform("reading the commit count") { $0.groupCommitCount }
    }
}
