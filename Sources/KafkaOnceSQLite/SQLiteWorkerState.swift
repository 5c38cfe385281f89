import KafkaOnce
import Synchronization

/// The store's connection, reachable only from jobs on the store's worker thread.
final class SQLiteConnectionBox: @unchecked Sendable {
    // `@unchecked`: `connection` is read and written only by jobs running on the store's
    // BlockingWorker, which runs one job at a time on its single thread. No other thread touches it,
    // so the connection and its statements are never used concurrently.
    var connection: SQLiteConnection?
}

/// The ``SQLiteDeduplicationStore/claim(_:fence:leaseDuration:)``,
/// ``SQLiteDeduplicationStore/finish(_:fence:)`` and
/// ``SQLiteDeduplicationStore/withTransaction(fence:_:)`` calls waiting for the next group commit,
/// and whether the store is closed.
///
/// Both live under one lock so that a call is either queued before the store closes, and then
/// committed or failed before the connection closes, or refused.
final class SQLiteWriteQueue: Sendable {
    private struct State {
        var entries: [SQLiteGroupedCall] = []
        var isClosed = false
    }

    private let state = Mutex(State())

    /// Whether ``close(then:)`` ran.
    var isClosed: Bool { state.withLock { $0.isClosed } }

    /// How many calls wait.
    var count: Int { state.withLock { $0.entries.count } }

    /// Queues `call` unless the store is closed, after `schedule` arranged for the queue to be
    /// drained; `schedule` runs under the lock and returns whether it succeeded.
    ///
    /// - Returns: Whether the call was queued; when not, the caller resumes it.
    func enqueue(_ call: SQLiteGroupedCall, scheduling schedule: () -> Bool) -> Bool {
        state.withLock { state in
            guard !state.isClosed, schedule() else { return false }
            state.entries.append(call)
            return true
        }
    }

    /// Removes and returns the `limit` calls that have waited longest, or every call when fewer
    /// wait.
    func take(upTo limit: Int) -> [SQLiteGroupedCall] {
        state.withLock { state in
            let count = min(limit, state.entries.count)
            defer { state.entries.removeFirst(count) }
            return Array(state.entries.prefix(count))
        }
    }

    /// Marks the store closed and, the first time only, runs `shutdown` under the lock.
    ///
    /// - Returns: Whether this call closed the store.
    func close(then shutdown: () -> Void) -> Bool {
        state.withLock { state in
            guard !state.isClosed else { return false }
            state.isClosed = true
            shutdown()
            return true
        }
    }
}

/// Carries a value from the worker thread to a thread waiting for it.
final class SQLiteHandoff<Value: Sendable>: Sendable {
    private let storage = Mutex<Value?>(nil)

    /// The value put, if any.
    var value: Value? { storage.withLock { $0 } }

    /// Puts the value.
    func put(_ value: Value) {
        storage.withLock { $0 = value }
    }
}
