import Foundation
import KafkaOnce
import KafkaOnceSQLite
import Testing

/// `kafka-once store` reading and deleting what a consumer recorded in a SQLite store.
@Suite struct StoreRecordRoundTripTests {
    static let key = "orders/id:42"
    static let origin = KafkaTopicPartitionOffset(topic: "orders", partition: 0, offset: 7)
    static let fingerprint = MessageFingerprint(payload: Array("order 42".utf8))

    /// Records `key` as completed with the result `ok`, as a consumer would, and closes the store.
    private func recordCompletedKey(at path: String) async throws {
        let store = try SQLiteDeduplicationStore(path: path)
        let partition = Self.origin.topicPartition
        let epochs = try await store.acquire([partition], owner: "test-consumer")
        let fence = PartitionFence(partition: partition, owner: "test-consumer", epoch: try #require(epochs[partition]))

        let request = ClaimRequest(key: Self.key, fingerprint: Self.fingerprint, origin: Self.origin)
        #expect(try await store.claim([request], fence: fence, leaseDuration: .seconds(30)) == [.acquired])
        let outcome = RecordedOutcome(
            key: Self.key,
            fingerprint: Self.fingerprint,
            origin: Self.origin,
            kind: .completed(result: Array("ok".utf8)),
            attempts: 1
        )
        try await store.finish([outcome], fence: fence)
        try await store.close()
    }

    @Test func statsShowAndForgetARecordedKey() async throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("store.sqlite")
        let location = "sqlite:" + path
        try await recordCompletedKey(at: path)

        let statsBefore = try await ToolProcess.run("store", "stats", "--store", location, "--json")
        let showJSON = try await ToolProcess.run("store", "show", Self.key, "--store", location, "--json")
        let showText = try await ToolProcess.run("store", "show", Self.key, "--store", location)
        let forget = try await ToolProcess.run("store", "forget", Self.key, "--store", location, "--json")
        let statsAfter = try await ToolProcess.run("store", "stats", "--store", location, "--json")

        #expect(try statsBefore.jsonObject()["completed"] as? Int == 1)
        #expect(try statsBefore.jsonObject()["total"] as? Int == 1)
        #expect(try statsBefore.jsonObject()["newestUpdate"] is String)

        let record = try showJSON.jsonObject()
        #expect(record["key"] as? String == Self.key)
        #expect(record["state"] as? String == "completed")
        #expect(record["fingerprint"] as? String == Self.fingerprint.description)
        #expect(record["owner"] as? String == "test-consumer")
        #expect(record["attempts"] as? Int == 1)
        #expect(record["resultBase64"] as? String == "b2s=")
        #expect((record["origin"] as? [String: Any])?["offset"] as? Int == 7)

        #expect(showText.exitCode == 0)
        #expect(showText.standardOutput.contains("origin          orders[0]@7\n"))
        #expect(showText.standardOutput.contains("result          ok\n"))

        #expect(try forget.jsonObject()["forgotten"] as? Bool == true)
        #expect(try statsAfter.jsonObject()["total"] as? Int == 0)
    }

    @Test func purgeDeletesRecordsOlderThanTheCutoffOnly() async throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("store.sqlite")
        let location = "sqlite:" + path
        try await recordCompletedKey(at: path)

        let keepRecent = try await ToolProcess.run(
            "store",
            "purge",
            "--older-than",
            "1h",
            "--store",
            location,
            "--json"
        )
        try await Task.sleep(for: .milliseconds(50))
        let purgeAll = try await ToolProcess.run("store", "purge", "--older-than", "0s", "--store", location, "--json")

        #expect(try keepRecent.jsonObject()["purged"] as? Int == 0)
        #expect(try purgeAll.jsonObject()["purged"] as? Int == 1)
    }
}
