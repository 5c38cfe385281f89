import Foundation
import KafkaOnce

/// `kafka-once run`: consumes topics effectively once and runs a shell command per new message.
struct RunCommand: Command {
    let name = "run"
    let summary = "consume topics effectively once, running a shell command per message"
    let discussion = """
        The command runs through /bin/sh -c with the payload on standard input and KAFKA_TOPIC, \
        KAFKA_PARTITION, KAFKA_OFFSET, KAFKA_KEY, KAFKA_IDEMPOTENCY_KEY, KAFKA_TIMESTAMP_MS, KAFKA_ATTEMPT \
        and KAFKA_HEADER_<NAME> in its environment. Exit status 0 records the message as done; anything else \
        is retried, then dead-lettered (or, without --dead-letter-topic, stops the consumer without committing \
        the message).
        A message's outcome is recorded before the next message of its partition runs, so a crash repeats at \
        most the one command that was running: pass KAFKA_IDEMPOTENCY_KEY downstream to make that harmless. \
        A command outlives a killed kafka-once and still reads its whole payload, never a cut-short one.
        SIGINT or SIGTERM finishes the running commands, records them, commits and leaves the group.
        KAFKA_ONCE_LOG_LEVEL (trace, debug, info, notice, warning, error, critical) sets how much is logged.
        """

    var options: [Option] {
        [
            .value("bootstrap-servers", "SERVERS", required: true, help: "Kafka brokers, HOST:PORT[,HOST:PORT...]"),
            .repeatable("topic", "TOPIC", required: true, help: "a topic to consume"),
            .value("group", "GROUP", required: true, help: "the consumer group, also the key namespace"),
            .value("store", "URL", required: true, help: "the store: memory:, sqlite:PATH, or postgres://..."),
            .repeatable(
                "key",
                "STRATEGY",
                default: "header:idempotency-key, header:message-id, cloudevents, coordinates",
                help:
                    "where a message's key comes from, first that yields one wins: header:NAME, cloudevents, "
                    + "record-key, payload-hash or coordinates"
            ),
            .value("retries", "N", default: "2", help: "attempts after the first before the failure policy applies"),
            .value("dead-letter-topic", "TOPIC", help: "where messages go after the last attempt"),
            .value("exec", "COMMAND", required: true, help: "the shell command run per message, payload on stdin"),
            .repeatable(
                "property",
                "NAME=VALUE",
                help: "a librdkafka consumer property, such as session.timeout.ms=6000"
            ),
            .json,
        ]
    }

    func run(_ arguments: ParsedArguments) async throws -> Int32 {
        let configuration = try Self.configuration(arguments)
        let handler = ShellHandler(command: try arguments.required("exec", as: String.self))
        let location = try arguments.required("store", as: StoreLocation.self)
        let store = try await location.open()
        let level = Environment.value(for: "KAFKA_ONCE_LOG_LEVEL").flatMap { name in
            KafkaOnceLogLevel.allCases.first { $0.description == name }
        }
        let logger = KafkaOnceLogger.standardError(label: "kafka-once.run", logLevel: level ?? .info)

        let consumer = EffectivelyOnceConsumer(configuration: configuration, store: store, logger: logger) {
            message,
            context in
            try await handler.run(message, context)
        }
        let progress = RunProgress(metrics: consumer.metrics)
        let reporting = Task { await progress.report() }
        defer { reporting.cancel() }

        do {
            try await SignalListener.runCancellingOnSignal { try await consumer.run() }
        } catch {
            progress.finish()
            try? await store.close()
            throw error
        }
        progress.finish()
        try await store.close()
        if arguments.isJSON { Console.json(Self.json(consumer.metrics.snapshot())) }
        return ExitCode.success
    }

    static func configuration(_ arguments: ParsedArguments) throws -> EffectivelyOnceConfiguration {
        var configuration = EffectivelyOnceConfiguration(
            bootstrapServers: try arguments.required("bootstrap-servers", as: String.self),
            groupID: try arguments.required("group", as: String.self),
            topics: try arguments.values("topic", as: String.self)
        )
        let keys = try arguments.list("key", as: KeyStrategyArgument.self)
        if !keys.isEmpty { configuration.keys = KeyDerivation(keys.map(\.strategy)) }
        configuration.retry.maxAttempts = try arguments.value("retries", default: 2, atLeast: 0) + 1
        if let topic = arguments.string("dead-letter-topic") {
            configuration.failurePolicy = .deadLetter(topic: topic)
        }
        configuration.consumer.properties.merge(try arguments.consumerProperties()) { _, given in given }
        configuration.handlesSignals = false
        return configuration
    }

    private static func json(_ snapshot: EffectivelyOnceMetrics.Snapshot) -> JSONValue {
        [
            "deliveries": .integer(snapshot.deliveries),
            "processed": .integer(snapshot.processed),
            "duplicates_skipped": .integer(snapshot.duplicatesSkipped),
            "conflicts": .integer(snapshot.conflicts),
            "retries": .integer(snapshot.retries),
            "failed": .integer(snapshot.failed),
            "dead_lettered": .integer(snapshot.deadLettered),
            "commits": .integer(snapshot.commits),
            "lag": .integer(snapshot.lag),
        ]
    }
}
