import Foundation
import KafkaOnce
import KafkaOnceTesting

/// `kafka-once chaos`: the redelivery chaos scenarios against the runtime.
struct ChaosCommand: Command {
    let name = "chaos"
    let summary = "run the redelivery chaos scenarios against the runtime and report each"
    let discussion = """
        Each scenario starts an embedded broker, produces messages with unique ids and some duplicate \
        produces, runs the consumer, injects its faults at seeded points, heals, drains, and checks that \
        nothing was lost, nothing was applied twice, and no commit ran ahead of the records.
        With a SQL store the handler's effects are written in the store's transaction; with memory: \
        scenarios that need that are skipped.
        """

    var options: [Option] {
        [
            .value("seed", "N", default: "1", help: "the seed of every random choice"),
            .value("messages", "N", default: "2000", help: "distinct ids per scenario"),
            .value(
                "scenario",
                "NAME",
                default: "all",
                help: "one of " + ChaosScenario.all.map(\.name).joined(separator: ", ") + ", or all"
            ),
            .value(
                "store",
                "STORE",
                default: "sqlite",
                help: "memory, sqlite (a temporary file), or a postgres:// URL"
            ),
            .json,
        ]
    }

    func run(_ arguments: ParsedArguments) async throws -> Int32 {
        let seed = try arguments.value("seed", default: 1)
        let messages = try arguments.value("messages", default: 2000, atLeast: 1)
        let scenarios = try Self.scenarios(named: arguments.string("scenario") ?? "all")
        let store = ChaosStoreChoice(location: try ChaosStoreChoice.parse(arguments.string("store")))
        defer { store.removeTemporaryFiles() }

        var options = ChaosHarness.Options()
        options.seed = UInt64(max(0, seed))
        options.messages = messages
        options.narrate = { Console.log($0) }
        options.childProcess = {
            guard let storeArgument = store.childStoreArgument else { return [] }
            return [ExecutablePath.current, ChaosWorkerCommand().name, "--store", storeArgument]
        }
        let harness = ChaosHarness(subject: store.subject, options: options)
        let report = try await harness.run(scenarios) { report in
            Console.log("\(report.name): \(report.passed ? "passed" : "FAILED")")
        }

        if arguments.isJSON {
            Console.json(Self.json(report))
        } else {
            Console.output(Self.table(report))
        }
        return report.passed ? ExitCode.success : ExitCode.failure
    }

    private static func scenarios(named name: String) throws(UsageError) -> [ChaosScenario] {
        if name == "all" { return ChaosScenario.all }
        guard let scenario = ChaosScenario.named(name) else {
            throw UsageError(
                "unknown scenario '\(name)'; use one of \(ChaosScenario.all.map(\.name).joined(separator: ", ")) or all"
            )
        }
        return [scenario]
    }

    static func json(_ report: ChaosReport) -> JSONValue {
        [
            "seed": .integer(Int(truncatingIfNeeded: report.seed)),
            "passed": .bool(report.passed),
            "scenarios": .array(
                report.scenarios.map { scenario in
                    [
                        "name": .string(scenario.name),
                        "faults": .array(scenario.faults.map { .string($0.description) }),
                        "acknowledged": .integer(scenario.acknowledged),
                        "deliveries": .integer(scenario.deliveries),
                        "effects": .integer(scenario.effects),
                        "distinct": .integer(scenario.distinct),
                        "lost": .integer(scenario.lost),
                        "duplicated": .integer(scenario.duplicated),
                        "dead_lettered": .integer(scenario.deadLettered),
                        "commits_ahead_of_records": .integer(scenario.commitsAheadOfRecords),
                        "skipped": .string(scenario.skipped),
                        "passed": .bool(scenario.passed),
                    ]
                }
            ),
        ]
    }

    private static func table(_ report: ChaosReport) -> String {
        var table = TextTable(columns: [
            .init("scenario"), .init("faults", alignment: .right), .init("acknowledged", alignment: .right),
            .init("deliveries", alignment: .right), .init("effects", alignment: .right),
            .init("distinct", alignment: .right), .init("lost", alignment: .right),
            .init("duplicated", alignment: .right), .init("result"),
        ])
        for scenario in report.scenarios {
            let result = scenario.skipped.map { "skipped: \($0)" } ?? (scenario.passed ? "passed" : "FAILED")
            table.append([
                scenario.name, String(scenario.faults.count), String(scenario.acknowledged),
                String(scenario.deliveries),
                String(scenario.effects), String(scenario.distinct), String(scenario.lost), String(scenario.duplicated),
                result,
            ])
        }
        let verdict = report.passed ? "all scenarios passed" : "some scenarios FAILED"
        return table.rendered() + "\nseed \(report.seed): \(verdict)"
    }
}
