import CSQLite
import Foundation
import KafkaOnce
import KafkaOnceSQLite
import Testing

@Suite struct SQLiteStoreFileTests {
    @Test func finishedOutcomeSurvivesReopening() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory + "/store.sqlite"
            let store = try SQLiteDeduplicationStore(path: path)
            let fence = try await Fixtures.fence(store)
            let request = Fixtures.request("order-1")
            _ = try await store.claim([request], fence: fence, leaseDuration: .seconds(30))
            try await store.finish([Fixtures.completed("order-1", result: [1, 2])], fence: fence)
            try await store.close()

            let reopened = try SQLiteDeduplicationStore(path: path)
            let record = try await reopened.record(for: "order-1")
            #expect(record?.state == .completed)
            #expect(record?.result == [1, 2])
            let epochs = try await reopened.acquire([Fixtures.partition()], owner: "consumer-2")
            #expect(epochs[Fixtures.partition()] == 2)
            try await reopened.close()
        }
    }

    @Test func missingDirectoryIsNamedInTheError() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory + "/missing/store.sqlite"
            let error = await storeError(.unusable) { _ = try SQLiteDeduplicationStore(path: path) }
            #expect(error?.message.contains(path) == true)
            #expect(error?.message.contains("does not exist") == true)
        }
    }

    @Test func unwritableLocationIsRefused() async throws {
        // Root may write almost anywhere, but nobody can create files in /proc.
        let path = "/proc/kafka-once-\(UUID().uuidString).sqlite"
        let error = await storeError(.unusable) { _ = try SQLiteDeduplicationStore(path: path) }
        #expect(error?.message.contains(path) == true)
        #expect(error?.message.contains("cannot open") == true)
    }

    @Test func fileThatIsNotADatabaseIsRefused() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory + "/garbage.sqlite"
            let garbage = Data((0..<8192).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) })
            try garbage.write(to: URL(fileURLWithPath: path))

            let error = await storeError(.unusable) { _ = try SQLiteDeduplicationStore(path: path) }
            #expect(error?.message.contains("'\(path)' is not a KafkaOnce SQLite store") == true)
            #expect(error?.message.contains("move it away") == true)
        }
    }

    @Test func newerSchemaVersionIsRefused() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory + "/store.sqlite"
            try await SQLiteDeduplicationStore(path: path).close()
            try execute("UPDATE kafka_once_schema_version SET version = 99", on: path)

            let error = await storeError(.unusable) { _ = try SQLiteDeduplicationStore(path: path) }
            #expect(error?.message.contains(path) == true)
            #expect(error?.message.contains("schema version 99") == true)
        }
    }

    @Test func closedStoreRefusesCallsAndClosesOnce() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory + "/store.sqlite"
            let store = try SQLiteDeduplicationStore(path: path)
            try await store.close()
            try await store.close()

            let error = await storeError(.closed) { _ = try await store.statistics() }
            #expect(error?.message.contains(path) == true)
            let transactionError = await storeError(.closed) {
                try await store.withTransaction(fence: fence()) { _ in }
            }
            #expect(transactionError != nil)
        }
    }

    @Test func nonPositivePurgeBatchIsRefused() async throws {
        try await withTemporaryDirectory { directory in
            let store = try SQLiteDeduplicationStore(path: directory + "/store.sqlite")
            let error = await storeError(.invalidArgument) {
                _ = try await store.purge(updatedBefore: Date(), batchSize: 0)
            }
            #expect(error != nil)
            try await store.close()
        }
    }

    private func fence() -> PartitionFence {
        PartitionFence(partition: Fixtures.partition(), owner: "consumer-1", epoch: 1)
    }
}

/// Runs `sql` on the file at `path` through a connection of the test's own.
func execute(_ sql: String, on path: String) throws {
    var database: OpaquePointer?
    defer { sqlite3_close(database) }
    guard sqlite3_open(path, &database) == SQLITE_OK, sqlite3_exec(database, sql, nil, nil, nil) == SQLITE_OK
    else {
        throw DeduplicationStoreError(.unusable, "the test could not run '\(sql)' on '\(path)'")
    }
}
