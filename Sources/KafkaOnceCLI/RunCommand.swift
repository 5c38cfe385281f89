/// `kafka-once run`: consumes topics effectively once and runs a shell command per message.
struct RunCommand: Command {
    let name = "run"
    let summary = "consume topics effectively once, running a shell command per message"

    var options: [Option] {
        [
            .value("bootstrap-servers", "SERVERS", required: true, help: "Kafka brokers, HOST:PORT[,HOST:PORT...]"),
            .repeatable("topic", "TOPIC", required: true, help: "a topic to consume"),
            .value("group", "GROUP", required: true, help: "the consumer group, also the key namespace"),
            .value("store", "URL", required: true, help: "the store: memory:, sqlite:PATH, or postgres://..."),
            .repeatable(
                "key",
                "STRATEGY",
                default: "header:idempotency-key, cloudevents, coordinates",
                help:
                    "where a message's key comes from, first that yields one wins: header:NAME, cloudevents, "
                    + "record-key, payload-hash or coordinates"
            ),
            .value("retries", "N", default: "3", help: "attempts after the first before dead-lettering"),
            .value("dead-letter-topic", "TOPIC", help: "where messages go after the last attempt"),
            .value("exec", "COMMAND", required: true, help: "the shell command run per message, payload on stdin"),
            .json,
        ]
    }

    func run(_ arguments: ParsedArguments) async throws -> Int32 {
        throw CommandFailure("\(name) is not available in this build")
    }
}
