import Foundation
import KafkaOnce

/// `kafka-once replay`: rewinds a group's committed offsets, after a dry run that says how many
/// messages the store would skip.
struct ReplayCommand: Command {
    let name = "replay"
    let summary = "rewind a group to the beginning, a timestamp or offsets; --dry-run reports what would run"
    let discussion = """
        The group must have no active members: stop its consumers first. With --store and --dry-run, the \
        messages from the new position to the end are read and their keys looked up in the store, to report \
        how many would be skipped as already processed and how many would run. Without --dry-run the new \
        offsets are committed for the group; its consumers start there when they next join.
        """

    var options: [Option] {
        [
            .value("bootstrap-servers", "SERVERS", required: true, help: "Kafka brokers, HOST:PORT[,HOST:PORT...]"),
            .value("topic", "TOPIC", required: true, help: "the topic to replay"),
            .value("group", "GROUP", required: true, help: "the consumer group to rewind"),
            .flag("from-beginning", help: "rewind to the oldest record the brokers hold"),
            .value("from-timestamp", "ISO8601", help: "rewind to the first record at or after this time"),
            .value("to-offsets", "P:O,...", help: "rewind partition P to offset O, for each pair given"),
            .value("store", "URL", help: "the group's store, to count what would be skipped"),
            .repeatable(
                "key",
                "STRATEGY",
                default: "header:idempotency-key, header:message-id, cloudevents, coordinates",
                help: "the key strategies the group's consumers use"
            ),
            .flag("dry-run", help: "report what a replay would do, and change nothing"),
            .json,
        ]
    }

    func run(_ arguments: ParsedArguments) async throws -> Int32 {
        let topic = try arguments.required("topic", as: String.self)
        let group = try arguments.required("group", as: String.self)
        let servers = try arguments.required("bootstrap-servers", as: String.self)
        let start = try ReplayStart(arguments)
        let isDryRun = arguments.flag("dry-run")

        let consumer = try KafkaConsumer(
            configuration: KafkaConsumerConfiguration(bootstrapServers: servers, groupID: group)
        )
        let metadata = try await consumer.metadata()
        guard let partitionCount = metadata.partitionCounts[topic] else {
            throw CommandFailure("topic '\(topic)' does not exist on \(servers)")
        }
        try await Self.ensureInactive(group, consumer)

        let partitions = (0..<partitionCount).map { KafkaTopicPartition(topic: topic, partition: Int32($0)) }
        let plan = try await ReplayPlan.make(start: start, partitions: partitions, consumer: consumer)

        var counts: ReplayCounts?
        if let location = try arguments.value("store", as: StoreLocation.self) {
            let store = try await location.open()
            var keys = KeyDerivation(namespace: group)
            let strategies = try arguments.list("key", as: KeyStrategyArgument.self)
            if !strategies.isEmpty { keys.strategies = strategies.map(\.strategy) }
            counts = try await ReplayCounts.count(plan, keys: keys, store: store, servers: servers)
            try await store.close()
        }
        try await consumer.close()
        if !isDryRun {
            try await GroupRewind.commit(plan.rows.map(\.target), topic: topic, group: group, servers: servers)
        }

        Console.output("")
        if arguments.isJSON {
            Console.json(plan.json(group: group, topic: topic, counts: counts, isDryRun: isDryRun))
        } else {
            Console.output(plan.text(counts: counts, isDryRun: isDryRun))
        }
        return ExitCode.success
    }

    /// Refuses to move a group that has members; says so when the cluster cannot tell.
    private static func ensureInactive(_ group: String, _ consumer: KafkaConsumer) async throws {
        do {
            let members = try await consumer.memberCount(ofGroup: group)
            guard members == 0 else {
                throw CommandFailure(
                    "group '\(group)' has \(members) active member(s); stop its consumers, then replay"
                )
            }
        } catch is KafkaError {
            // The cluster cannot describe groups (the embedded broker cannot): joining the group
            // before committing tells instead.
        }
    }
}

/// Where a replay starts.
enum ReplayStart {
    case beginning
    case timestamp(Date)
    case offsets([PartitionOffset])

    init(_ arguments: ParsedArguments) throws {
        switch try arguments.exactlyOne(of: ["from-beginning", "from-timestamp", "to-offsets"]) {
        case "from-beginning": self = .beginning
        case "from-timestamp": self = .timestamp(try arguments.required("from-timestamp", as: Date.self))
        default: self = .offsets(try arguments.list("to-offsets", as: PartitionOffset.self))
        }
    }
}
