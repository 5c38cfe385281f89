import Foundation
import Testing

/// `kafka-once store` against real stores: what it prints, and how it fails.
@Suite struct StoreCommandTests {
    @Test(arguments: ["nowhere", "memory", "sqlite:", "sqlite:dir/", "sqlite://relative/x.sqlite", "mysql://db/x"])
    func malformedStoreURLIsAUsageErrorListingTheForms(location: String) async throws {
        let result = try await ToolProcess(["store", "stats", "--store", location]).finish()

        #expect(result.exitCode == 2)
        #expect(result.errorLines.count == 1)
        #expect(result.standardError.contains("'\(location)' for --store"))
        #expect(result.standardError.contains("memory:, sqlite:PATH or postgres://"))
    }

    @Test func unopenableSQLiteFileIsARuntimeErrorOnOneLine() async throws {
        let result = try await ToolProcess.run("store", "stats", "--store", "sqlite:/nonexistent-dir/x.sqlite")

        #expect(result.exitCode == 1)
        #expect(result.standardOutput.isEmpty)
        #expect(result.errorLines.count == 1)
        #expect(result.standardError.hasPrefix("kafka-once store stats: error: "))
        #expect(result.standardError.contains("/nonexistent-dir/x.sqlite"))
    }

    @Test func unreachablePostgresIsARuntimeErrorThatHidesThePassword() async throws {
        let url = "postgres://someone:not-the-password@127.0.0.1:1/nothing"

        let result = try await ToolProcess.run("store", "stats", "--store", url, "--json")

        #expect(result.exitCode == 1)
        #expect(result.errorLines.count == 1)
        #expect(result.standardError.hasPrefix("kafka-once store stats: error: "))
        #expect(!result.standardError.contains("not-the-password"))
        #expect(!result.standardOutput.contains("not-the-password"))
        #expect(try result.jsonObject()["exitCode"] as? Int == 1)
    }

    @Test func statsOfAnEmptySQLiteStoreAreZeros() async throws {
        let directory = try TemporaryDirectory()
        let location = "sqlite:" + directory.path("store.sqlite")

        let result = try await ToolProcess.run("store", "stats", "--store", location, "--json")
        let object = try result.jsonObject()

        #expect(result.exitCode == 0, "\(result.standardError)")
        #expect(object["store"] as? String == location)
        for key in ["inProgress", "completed", "failed", "total"] {
            #expect(object[key] as? Int == 0, "\(key) in \(result.standardOutput)")
        }
        #expect(object["oldestUpdate"] is NSNull)
        #expect(object["newestUpdate"] is NSNull)
    }

    @Test func emptySQLiteStoreRoundTrip() async throws {
        let directory = try TemporaryDirectory()
        let location = "sqlite:" + directory.path("store.sqlite")
        let key = "orders/id:42"

        let stats = try await ToolProcess.run("store", "stats", "--store", location)
        let show = try await ToolProcess.run("store", "show", key, "--store", location)
        let forget = try await ToolProcess.run("store", "forget", key, "--store", location, "--json")
        let purge = try await ToolProcess.run("store", "purge", "--older-than", "7d", "--store", location, "--json")

        #expect(stats.exitCode == 0)
        #expect(stats.standardOutput.contains("completed      0\n"))
        #expect(show.exitCode == 1)
        #expect(show.errorLines.count == 1)
        #expect(show.standardError.contains("no record of key '\(key)'"))
        #expect(forget.exitCode == 0)
        #expect(try forget.jsonObject()["forgotten"] as? Bool == false)
        #expect(purge.exitCode == 0)
        #expect(try purge.jsonObject()["purged"] as? Int == 0)
        #expect(try purge.jsonObject()["cutoff"] is String)
    }

    @Test func statsOfTheMemoryStoreAreAlignedText() async throws {
        let result = try await ToolProcess.run("store", "stats", "--store", "memory:")

        #expect(result.exitCode == 0)
        #expect(
            result.standardOutput == """
                store          memory:
                in progress    0
                completed      0
                failed         0
                total          0
                oldest update  -
                newest update  -

                """
        )
    }
}
