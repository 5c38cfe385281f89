import Foundation
import KafkaOnce
import KafkaOnceTesting

/// `kafka-once demo`: the effectively-once consumer on the embedded broker, through redeliveries.
struct DemoCommand: Command {
    let name = "demo"
    let summary = "run an effectively-once consumer on the embedded broker through injected redeliveries"
    let discussion = """
        Starts the embedded broker, produces an order stream in which one order in ten is produced twice, \
        and charges each order through the consumer while a commit is rejected, the consumer crashes \
        before committing and is restarted, and a second member joins the group. Then it counts: every \
        order charged once, none lost, none charged twice.
        """

    var options: [Option] {
        [
            .value("messages", "N", default: "10000", help: "how many orders to produce"),
            .value("store", "URL", default: "a temporary SQLite file", help: "memory:, sqlite:PATH or postgres://…"),
            .value("seed", "N", default: "1", help: "the seed of the duplicates and fault points"),
            .json,
        ]
    }

    func run(_ arguments: ParsedArguments) async throws -> Int32 {
        let messages = try arguments.value("messages", default: 10_000, atLeast: 1)
        let seed = try arguments.value("seed", default: 1)
        let location = try arguments.string("store").map { try StoreLocation.parse($0) } ?? .sqlite(path: "")
        let store = ChaosStoreChoice(location: location)
        defer { store.removeTemporaryFiles() }

        var options = ChaosHarness.Options()
        options.messages = messages
        options.seed = UInt64(max(0, seed))
        options.handlerPacing = .microseconds(200)
        options.narrate = { line in Console.log("demo: " + line.replacingOccurrences(of: "demo: ", with: "")) }
        Console.log("demo: store \(location.isTemporarySQLite ? "a temporary SQLite file" : "\(location)")")

        let report = try await ChaosHarness(subject: store.subject, options: options).run(.demo)
        if arguments.isJSON {
            Console.json([
                "produced": .integer(report.produced),
                "distinct_ids": .integer(report.acknowledged),
                "deliveries": .integer(report.deliveries),
                "effects": .integer(report.effects),
                "duplicates_skipped": .integer(report.duplicatesSkipped),
                "lost": .integer(report.lost),
                "duplicated_effects": .integer(report.duplicated),
            ])
        } else {
            Console.output(Self.summary(report))
        }
        return report.passed ? ExitCode.success : ExitCode.failure
    }

    private static func summary(_ report: ChaosScenarioReport) -> String {
        let table = TextTable.keyValue([
            ("produced", "\(report.produced) records (\(report.produced - report.acknowledged) duplicate produces)"),
            ("distinct orders", String(report.acknowledged)),
            ("deliveries", "\(report.deliveries) (redeliveries included)"),
            ("charges (effects)", String(report.effects)),
            ("skipped as duplicate", String(report.duplicatesSkipped)),
            ("lost", String(report.lost)),
            ("charged twice", String(report.duplicated)),
            ("faults", report.faults.map(\.description).joined(separator: ", ")),
        ])
        let verdict =
            report.passed
            ? "every order was charged exactly once"
            : "FAILED: lost \(report.lostSample), charged twice \(report.duplicatedSample)"
        return table.rendered() + "\n" + verdict
    }
}

extension StoreLocation {
    var isTemporarySQLite: Bool {
        if case .sqlite(let path) = self { path.isEmpty } else { false }
    }
}
