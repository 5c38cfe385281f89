import Foundation
import Testing

/// The PostgreSQL database the tests may use: `KAFKA_ONCE_POSTGRES_URL`, which `scripts/test.sh`
/// sets after starting a throwaway server.
enum PostgresTestDatabase {
    static let url = ProcessInfo.processInfo.environment["KAFKA_ONCE_POSTGRES_URL"].flatMap { $0.isEmpty ? nil : $0 }
}

/// `kafka-once store` against a real PostgreSQL server; skipped without one.
@Suite(.enabled(if: PostgresTestDatabase.url != nil, "set KAFKA_ONCE_POSTGRES_URL or use scripts/test.sh"))
struct PostgresStoreCommandTests {

    @Test func statsAndForgetWorkOnPostgres() async throws {
        let url = try #require(PostgresTestDatabase.url)
        let key = "cli-tests/record-key:\(UUID().uuidString)"

        let stats = try await ToolProcess.run("store", "stats", "--store", url, "--json")
        let forget = try await ToolProcess.run("store", "forget", key, "--store", url, "--json")
        let show = try await ToolProcess.run("store", "show", key, "--store", url)

        #expect(stats.exitCode == 0, "\(stats.standardError)")
        #expect(try stats.jsonObject()["total"] is Int)
        #expect(try forget.jsonObject()["forgotten"] as? Bool == false)
        #expect(show.exitCode == 1)
        #expect(show.errorLines.count == 1)
    }

}
