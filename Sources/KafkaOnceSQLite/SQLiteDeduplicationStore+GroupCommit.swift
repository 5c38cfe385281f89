import Foundation
import KafkaOnce

extension SQLiteDeduplicationStore {
    /// Records outcomes and returns when they are on disk.
    ///
    /// Calls from different partitions that arrive while the store is busy are recorded together:
    /// the worker thread takes every waiting call into one transaction, checks each call's fence
    /// inside it, and syncs once. A call whose fence is stale fails alone, with none of its rows
    /// written; the others commit.
    ///
    /// - Throws: ``DeduplicationStoreError/Code/fenced`` when `fence` is stale;
    ///   ``DeduplicationStoreError/Code/unavailable`` when another process held the lock for longer
    ///   than the busy timeout. Nothing of this call is recorded then.
    public func finish(_ outcomes: [RecordedOutcome], fence: PartitionFence) async throws {
        let call = SQLiteFinishCall(outcomes: outcomes, fence: fence)
        let queue = finishQueue
        let box = connectionBox
        let worker = self.worker
        let path = self.path

        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            let entry = SQLiteFinishQueue.Entry(call: call, continuation: continuation)
            let queued = queue.enqueue(entry) {
                worker.submit { Self.recordWaitingCalls(queue, box, path: path) }
            }
            if !queued {
                continuation.resume(throwing: DeduplicationStoreError.closed(path: path))
            }
        }
    }

    /// Records every waiting call in one transaction; runs on the worker thread.
    ///
    /// Each finish call queues one of these. The first to run takes all the calls that arrived
    /// meanwhile; the later ones find the queue empty and return.
    private static func recordWaitingCalls(
        _ queue: SQLiteFinishQueue,
        _ box: SQLiteConnectionBox,
        path: String
    ) {
        let entries = queue.takeAll()
        guard !entries.isEmpty else { return }

        guard let connection = box.connection else {
            for entry in entries {
                entry.continuation.resume(throwing: DeduplicationStoreError.closed(path: path))
            }
            return
        }
        let results = connection.finish(entries.map(\.call), now: Date())
        for (entry, result) in zip(entries, results) {
            entry.continuation.resume(with: result)
        }
    }

    // MARK: - Inspection for tests

    /// How many finish calls wait for the worker thread.
    @_spi(Testing)
    public var waitingFinishCallCount: Int { finishQueue.count }

    /// How many transactions have recorded finish calls since the store opened.
    @_spi(Testing)
    public func finishTransactionCount() async throws -> Int {
        try await perform("reading the commit count") { $0.finishTransactionCount }
    }
}
