/// `kafka-once demo`: the effectively-once consumer on the embedded broker, through injected
/// redeliveries.
struct DemoCommand: Command {
    let name = "demo"
    let summary = "run an effectively-once consumer on the embedded broker through redeliveries"

    var options: [Option] {
        [
            .value("messages", "N", default: "10000", help: "how many orders to produce"),
            .value("store", "URL", default: "a temporary SQLite file", help: "the deduplication store"),
            .json,
        ]
    }

    func run(_ arguments: ParsedArguments) async throws -> Int32 {
        throw CommandFailure("\(name) is not available in this build")
    }
}
