import Foundation
import KafkaOnce
import KafkaOncePostgres
import KafkaOnceSQLite

/// The store of one runtime mode: opened before the clock starts, removed after it stopped.
enum BenchStore {
    case discarding(DiscardingDeduplicationStore)
    case memory(InMemoryDeduplicationStore)
    case sqlite(SQLiteDeduplicationStore, directory: URL)
    case postgres(PostgresDeduplicationStore, topic: String)

    /// Opens the store `assignment`'s mode needs, empty.
    ///
    /// - Throws: The store's own error, naming its location.
    static func open(for assignment: BenchAssignment) async throws -> BenchStore {
        switch assignment.mode {
        case .raw, .none:
            return .discarding(DiscardingDeduplicationStore())
        case .memory:
            // The default capacity: beyond it the oldest finished records are dropped, which keeps
            // memory flat; the topic holds no duplicates, so nothing is processed twice for it.
            return .memory(InMemoryDeduplicationStore())
        case .sqlite, .sqlitePlain:
            let directory = FileManager.default.temporaryDirectory
                .appendingPathComponent("kafka-once-bench-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            let path = directory.appendingPathComponent("bench.sqlite").path
            return .sqlite(try SQLiteDeduplicationStore(path: path), directory: directory)
        case .postgres:
            guard let url = assignment.postgresURL else {
                throw CommandFailure("the postgres mode was started without a PostgreSQL URL")
            }
            return .postgres(try await PostgresDeduplicationStore(url: url), topic: assignment.topic)
        }
    }

    /// Closes the store and deletes what the run wrote: the SQLite file, or the PostgreSQL rows
    /// of the benchmark topic.
    func remove() async throws {
        switch self {
        case .discarding, .memory:
            return
        case .sqlite(let store, let directory):
            try await store.close()
            try FileManager.default.removeItem(at: directory)
        case .postgres(let store, let topic):
            try await Self.deleteRows(of: topic, in: store)
            try await store.close()
        }
    }

    /// Deletes the records and partition epochs of `topic`, which only the benchmark uses, in a
    /// transaction fenced like any other.
    private static func deleteRows(of topic: String, in store: PostgresDeduplicationStore) async throws {
        let partition = KafkaTopicPartition(topic: topic, partition: 0)
        let owner = "kafka-once-bench-cleanup"
        let epochs = try await store.acquire([partition], owner: owner)
        let fence = PartitionFence(partition: partition, owner: owner, epoch: epochs[partition] ?? 0)
        try await store.withTransaction(fence: fence) { transaction in
            try transaction.execute("DELETE FROM kafka_once_records WHERE topic = $1", [.text(topic)])
            try transaction.execute("DELETE FROM kafka_once_partitions WHERE topic = $1", [.text(topic)])
        }
    }
}
