/// `kafka-once bench`: measures throughput side by side against the raw librdkafka consume loop.
struct BenchCommand: Command {
    let name = "bench"
    let summary = "measure throughput side by side with the raw librdkafka consume loop"

    var options: [Option] {
        [
            .value("messages", "N", default: "100000", help: "messages per mode"),
            .value("partitions", "P", default: "4", help: "partitions of the benchmark topic"),
            .value("payload-bytes", "B", default: "100", help: "payload size"),
            .value(
                "modes",
                "LIST",
                default: "raw,none,memory,sqlite",
                help: "modes among raw, none, memory, sqlite, postgres"
            ),
            .value("postgres", "URL", help: "the PostgreSQL store for the postgres mode"),
            .value("svg", "PATH", help: "also write a bar chart to this file"),
            .json,
        ]
    }

    func run(_ arguments: ParsedArguments) async throws -> Int32 {
        throw CommandFailure("\(name) is not available in this build")
    }
}
