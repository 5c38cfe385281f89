/// `kafka-once chaos`: runs the redelivery chaos scenarios and reports per scenario.
struct ChaosCommand: Command {
    let name = "chaos"
    let summary = "run the redelivery chaos scenarios and report per scenario"

    var options: [Option] {
        [
            .value("seed", "N", default: "random, printed", help: "the seed of the fault schedule"),
            .value("messages", "N", default: "2000", help: "messages per scenario"),
            .value("scenario", "NAME", default: "all", help: "one scenario, or all"),
            .value("store", "STORE", default: "sqlite", help: "memory, sqlite, or a store URL"),
            .json,
        ]
    }

    func run(_ arguments: ParsedArguments) async throws -> Int32 {
        throw CommandFailure("\(name) is not available in this build")
    }
}
