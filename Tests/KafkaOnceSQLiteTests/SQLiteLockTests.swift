import CSQLite
import KafkaOnce
import KafkaOnceSQLite
import Testing

@Suite struct SQLiteLockTests {
    @Test func lockedFileMakesCallsUnavailableAndRecordsNothing() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory + "/store.sqlite"
            let store = try SQLiteDeduplicationStore(path: path, busyTimeout: .milliseconds(100))
            let fence = try await Fixtures.fence(store)

            var other: OpaquePointer?
            #expect(sqlite3_open(path, &other) == SQLITE_OK)
            defer { sqlite3_close(other) }
            #expect(sqlite3_exec(other, "BEGIN EXCLUSIVE", nil, nil, nil) == SQLITE_OK)

            let claimError = await storeError(.unavailable) {
                _ = try await store.claim([Fixtures.request("a")], fence: fence, leaseDuration: .seconds(30))
            }
            #expect(claimError?.message.contains("'\(path)' is locked by another process") == true)
            #expect(claimError?.isRetriable == true)
            #expect(
                await storeError(.unavailable) {
                    try await store.finish([Fixtures.completed("b")], fence: fence)
                }
                    != nil
            )

            #expect(sqlite3_exec(other, "ROLLBACK", nil, nil, nil) == SQLITE_OK)
            #expect(try await store.record(for: "a") == nil)
            #expect(try await store.record(for: "b") == nil)
            let outcomes = try await store.claim([Fixtures.request("a")], fence: fence, leaseDuration: .seconds(9))
            #expect(outcomes == [.acquired])
            try await store.close()
        }
    }
}
