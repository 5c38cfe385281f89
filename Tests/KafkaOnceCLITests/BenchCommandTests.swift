import Foundation
import Testing

/// `kafka-once bench`: every mode consumes every message in a child process of its own, the JSON
/// carries the agreed keys, and bad input is refused before the broker starts. No test asserts a
/// time or a ratio: those depend on the machine.
@Suite struct BenchCommandTests {
    @Test func aSmallRunConsumesEveryMessageInEveryModeAndReportsJSON() async throws {
        let directory = try TemporaryDirectory()
        let chart = directory.path("bench.svg")

        let result = try await ToolProcess.run(
            "bench",
            "--messages",
            "20000",
            "--partitions",
            "4",
            "--repetitions",
            "1",
            "--modes",
            "raw,memory,sqlite",
            "--json",
            "--svg",
            chart,
            timeout: .seconds(180)
        )
        let object = try result.jsonObject()
        let rows = try #require(object["rows"] as? [[String: Any]])

        #expect(result.exitCode == 0, "\(result.standardError)")
        #expect(object["messages"] as? Int == 20000)
        #expect(object["partitions"] as? Int == 4)
        #expect(object["payload_bytes"] as? Int == 100)
        #expect(object["fetch_wakeup_ms"] as? Int == 50)
        #expect(rows.map { $0["mode"] as? String } == ["raw", "memory", "sqlite"])
        for row in rows {
            let mode = row["mode"] as? String ?? "?"
            #expect(row["consumed"] as? Int == 20000, "\(mode)")
            #expect((row["seconds"] as? Double ?? 0) > 0, "\(mode)")
            #expect((row["messages_per_second"] as? Int ?? 0) > 0, "\(mode)")
            #expect((row["ratio_to_raw"] as? Double ?? 0) > 0, "\(mode)")
            #expect((row["peak_rss_mb"] as? Double ?? 0) > 0, "\(mode)")
        }
        let svg = try String(contentsOfFile: chart, encoding: .utf8)
        #expect(svg.hasPrefix("<svg"))
        #expect(svg.contains(">sqlite</text>"))
    }

    @Test func theTableNamesEveryModeWithoutJSON() async throws {
        let result = try await ToolProcess.run(
            "bench",
            "--messages",
            "2000",
            "--partitions",
            "2",
            "--repetitions",
            "1",
            "--modes",
            "raw,none",
            "--fetch-wakeup",
            "0",
            timeout: .seconds(120)
        )

        #expect(result.exitCode == 0, "\(result.standardError)")
        #expect(result.standardOutput.contains("no fetch wake-up"))
        #expect(result.standardOutput.contains("ratio to raw"))
        #expect(result.standardOutput.contains("\nraw "))
        #expect(result.standardOutput.contains("\nnone "))
    }

    @Test(arguments: [
        (["--modes", "bogus"], "bogus"),
        (["--messages", "0"], "--messages"),
        (["--repetitions", "0"], "--repetitions"),
        (["--fetch-wakeup", "-1"], "--fetch-wakeup"),
        (["--modes", "raw,postgres"], "--postgres"),
        (["--messages", "2000000", "--partitions", "4"], "about 5 MB"),
    ])
    func badInputIsAUsageErrorOnOneLine(arguments: [String], named: String) async throws {
        let result = try await ToolProcess(["bench"] + arguments).finish()

        #expect(result.exitCode == 2)
        #expect(result.standardOutput.isEmpty)
        #expect(result.errorLines.count == 1, "\(result.standardError)")
        #expect(result.standardError.contains(named), "\(result.standardError)")
    }

    @Test func helpDoesNotMentionTheWorkerSide() async throws {
        let result = try await ToolProcess.run("bench", "--help")

        #expect(result.exitCode == 0)
        #expect(!result.standardOutput.contains("KAFKA_ONCE_BENCH_ASSIGNMENT"))
        #expect(result.standardOutput.contains("--repetitions R"))
    }
}
