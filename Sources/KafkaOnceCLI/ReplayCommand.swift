/// `kafka-once replay`: rewinds a consumer group, skipping what the store already recorded.
struct ReplayCommand: Command {
    let name = "replay"
    let summary = "rewind a consumer group to the beginning, a time or offsets"

    var synopsis: String? {
        "--bootstrap-servers SERVERS --topic TOPIC --group GROUP "
            + "(--from-beginning | --from-timestamp ISO8601 | --to-offsets P:O,...) [options]"
    }

    var options: [Option] {
        [
            .value("bootstrap-servers", "SERVERS", required: true, help: "Kafka brokers, HOST:PORT[,HOST:PORT...]"),
            .value("topic", "TOPIC", required: true, help: "the topic to rewind"),
            .value("group", "GROUP", required: true, help: "the consumer group to rewind"),
            .flag("from-beginning", help: "rewind every partition to its earliest offset"),
            .value("from-timestamp", "ISO8601", help: "rewind to the first message at or after this time"),
            .value("to-offsets", "P:O,...", help: "rewind partitions to these offsets"),
            .value("store", "URL", help: "the store, to count messages already processed"),
            .flag("dry-run", help: "report how many messages would be skipped, without moving offsets"),
            .json,
        ]
    }

    func run(_ arguments: ParsedArguments) async throws -> Int32 {
        throw CommandFailure("\(name) is not available in this build")
    }
}
