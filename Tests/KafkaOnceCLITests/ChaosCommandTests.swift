import Foundation
import Testing

/// `kafka-once chaos`, including the scenario that needs a process to kill.
@Suite(.serialized) struct ChaosCommandTests {
    @Test func theKilledConsumerProcessIsKilledFiveTimesAndStillLosesAndDuplicatesNothing() async throws {
        let result = try await ToolProcess.run(
            "chaos",
            "--scenario",
            "sigkill",
            "--messages",
            "2000",
            "--seed",
            "3",
            "--json",
            timeout: .seconds(240)
        )
        #expect(result.exitCode == 0, "\(result.standardError.suffix(2000))")
        let report = try result.jsonObject()
        #expect(report["passed"] as? Bool == true)
        let scenario = try #require((report["scenarios"] as? [[String: Any]])?.first)
        #expect(scenario["name"] as? String == "sigkill")
        #expect((scenario["faults"] as? [String])?.filter { $0.hasPrefix("sigkill") }.count ?? 0 >= 5)
        #expect(scenario["lost"] as? Int == 0)
        #expect(scenario["duplicated"] as? Int == 0)
        #expect(scenario["distinct"] as? Int == 2000)
    }

    @Test(
        .enabled(
            if: PostgresTestDatabase.url != nil,
            "set KAFKA_ONCE_POSTGRES_URL to kill consumer processes that share a PostgreSQL store"
        )
    )
    func killedProcessesSharingAPostgresStoreLoseAndDuplicateNothing() async throws {
        let url = try #require(PostgresTestDatabase.url)
        let result = try await ToolProcess.run(
            "chaos",
            "--scenario",
            "sigkill",
            "--messages",
            "1000",
            "--store",
            url,
            "--json",
            timeout: .seconds(240)
        )
        #expect(result.exitCode == 0, "\(result.standardError.suffix(2000))")
        #expect(try result.jsonObject()["passed"] as? Bool == true, "\(result.standardOutput)")
    }

    @Test func anUnknownScenarioIsAUsageError() async throws {
        let result = try await ToolProcess.run("chaos", "--scenario", "meteor")
        #expect(result.exitCode == 2)
        #expect(result.standardError.contains("meteor"))
    }
}
