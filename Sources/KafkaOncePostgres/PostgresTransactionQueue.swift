import KafkaOnce
import Synchronization

/// A ``PostgresDeduplicationStore/withTransaction(fence:_:)`` call waiting for the store's thread.
///
/// The caller's value type is erased here: ``run`` calls the body and returns the closure that
/// hands its value to the caller, which the group calls only once its transaction committed.
struct PostgresPendingTransaction: Sendable {
    let fence: PartitionFence
    /// Runs the caller's body; returns what resumes the caller with the body's value.
    let run: @Sendable (any DeduplicationTransaction) throws -> @Sendable () -> Void
    /// Resumes the caller with an error.
    let fail: @Sendable (any Error) -> Void

    init<Value: Sendable>(
        fence: PartitionFence,
        body: @escaping @Sendable (any DeduplicationTransaction) throws -> Value,
        continuation: CheckedContinuation<Value, any Error>
    ) {
        self.fence = fence
        run = { transaction in
            let value = try body(transaction)
            return { continuation.resume(returning: value) }
        }
        fail = { continuation.resume(throwing: $0) }
    }
}

/// Transaction calls waiting for the store's thread. Whichever job runs first takes the oldest
/// ones, up to a group's size, so partitions that call at the same time share a transaction.
final class PostgresTransactionQueue: Sendable {
    private let pending = Mutex<[PostgresPendingTransaction]>([])

    /// How many calls are waiting.
    var count: Int {
        pending.withLock { $0.count }
    }

    func append(_ call: PostgresPendingTransaction) {
        pending.withLock { $0.append(call) }
    }

    /// Removes and returns the oldest calls, at most `limit` of them.
    func take(upTo limit: Int) -> [PostgresPendingTransaction] {
        pending.withLock { pending in
            let count = min(limit, pending.count)
            defer { pending.removeFirst(count) }
            return Array(pending.prefix(count))
        }
    }
}
