import Foundation
import KafkaOnce

/// Locks partition rows `FOR SHARE` inside a transaction and checks fences against them.
///
/// The shared lock is held until the transaction ends, so a new owner's
/// ``/KafkaOnce/DeduplicationStore/acquire(_:owner:)`` (which updates the row) waits for the transaction, and
/// every transaction that starts after the acquire sees the new epoch and is refused.
struct PostgresFenceCheck {
    /// The owner and epoch of each locked partition.
    private(set) var owners: [KafkaTopicPartition: (owner: String, epoch: Int64)] = [:]
    /// The server's transaction time, or `nil` when no partition row exists.
    private(set) var now: Date?

    /// The statement that locks `partitions`, in a fixed order so that concurrent transactions do
    /// not deadlock on them.
    static func lockStatement(_ partitions: some Sequence<KafkaTopicPartition>) -> PostgresStatement {
        let sorted = Set(partitions).sorted(by: PostgresFenceCheck.lockOrder)
        return PostgresStatement(
            """
            SELECT topic, partition, owner, epoch, extract(epoch FROM now())
            FROM kafka_once_partitions
            WHERE (topic, partition) IN (SELECT * FROM unnest($1::text[], $2::integer[]))
            ORDER BY topic, partition
            FOR SHARE
            """,
            [
                PostgresArrayLiteral.strings(sorted.map(\.topic)),
                PostgresArrayLiteral.integers(sorted.map(\.partition)),
            ],
            prepared: true
        )
    }

    /// The order partition rows are locked and updated in: topic bytes, then partition number, as
    /// the `"C"` collation of `kafka_once_partitions.topic` sorts them.
    static func lockOrder(_ left: KafkaTopicPartition, _ right: KafkaTopicPartition) -> Bool {
        if left.topic != right.topic { return left.topic.utf8.lexicographicallyPrecedes(right.topic.utf8) }
        return left.partition < right.partition
    }

    /// Reads the result of ``lockStatement(_:)``.
    init(_ result: PostgresResult) throws(PostgresFailure) {
        for row in result.rows {
            let partition = KafkaTopicPartition(
                topic: try row.string(0),
                partition: Int32(truncatingIfNeeded: try row.int64(1))
            )
            owners[partition] = (try row.string(2), try row.int64(3))
            now = try row.date(4)
        }
    }

    /// `nil` when `fence` is current, else the error that says who owns the partition now.
    func violation(of fence: PartitionFence, at location: PostgresLocation) -> DeduplicationStoreError? {
        guard let current = owners[fence.partition] else {
            return DeduplicationStoreError(
                .fenced,
                "partition \(fence.partition) was never acquired in the PostgreSQL store at "
                    + "'\(location.redacted)'; call acquire(_:owner:) when the partition is assigned and use "
                    + "the epoch it returns"
            )
        }
        guard current.owner != fence.owner || current.epoch != fence.epoch else { return nil }
        return DeduplicationStoreError(
            .fenced,
            "the fence \(fence) is stale: partition \(fence.partition) belongs to '\(current.owner)' at epoch "
                + "\(current.epoch) now; this consumer lost the partition, so drop the batch and leave it "
                + "to the new owner"
        )
    }
}
