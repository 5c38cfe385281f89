import KafkaOnce
import Synchronization

/// A claim, finish or release submitted by a partition's task, and the continuation that task waits on.
struct PostgresPendingWrite: Sendable {
    let write: PostgresWrite
    /// Resumed with the claim outcomes, or with no outcomes for a finish or a release.
    let continuation: CheckedContinuation<[ClaimOutcome], any Error>
}

/// Writes waiting for the store's thread. Whichever job runs first takes all that fit in one
/// group commit, so partitions that write at the same time share a transaction.
final class PostgresWriteQueue: Sendable {
    private let pending = Mutex<[PostgresPendingWrite]>([])

    func append(_ write: PostgresPendingWrite) {
        pending.withLock { $0.append(write) }
    }

    /// Removes and returns the oldest writes, as many as fit in `limit` keys (at least one).
    func take(upTo limit: Int) -> [PostgresPendingWrite] {
        pending.withLock { pending in
            var size = 0
            var count = 0
            while count < pending.count, count == 0 || size + pending[count].write.size <= limit {
                size += pending[count].write.size
                count += 1
            }
            defer { pending.removeFirst(count) }
            return Array(pending.prefix(count))
        }
    }
}
