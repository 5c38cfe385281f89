import KafkaOnceTesting

/// `kafka-once mock-cluster`: serves the embedded broker until SIGINT or SIGTERM.
struct MockClusterCommand: Command {
    let name = "mock-cluster"
    let summary = "serve the embedded Kafka broker for local development"

    var options: [Option] {
        [
            .value("brokers", "N", default: "1", help: "how many brokers to start"),
            .repeatable(
                "topic",
                "NAME:PARTITIONS",
                help: "a topic to create before serving; NAME alone has one partition"
            ),
            .json,
        ]
    }

    var discussion: String {
        """
        The first line on standard output is bootstrap.servers=HOST:PORT[,HOST:PORT...], \
        written as soon as the brokers listen; with --json it is instead one JSON object with \
        the keys bootstrapServers, brokers and topics (name, partitions). Serves until SIGINT or \
        SIGTERM, then stops the brokers and exits with 0.
        """
    }

    func run(_ arguments: ParsedArguments) async throws -> Int32 {
        let brokers = try arguments.value("brokers", default: 1, atLeast: 1)
        let topics = try arguments.values("topic", as: TopicSpecification.self)

        // Watch signals before announcing the address: a parent may signal as soon as it reads it.
        let signals = await SignalListener.start()
        defer { signals.cancel() }

        let cluster = try MockKafkaCluster(brokers: brokers)
        defer { cluster.shutdown() }
        for topic in topics {
            try cluster.createTopic(topic.name, partitions: topic.partitions)
        }

        announce(cluster, topics: topics, json: arguments.isJSON)
        let signal = await signals.next()

        let reason = signal.map { "received \(SignalListener.signalName($0))" } ?? "stop requested"
        Console.log("\(reason); stopping the mock cluster")
        return ExitCode.success
    }

    private func announce(_ cluster: MockKafkaCluster, topics: [TopicSpecification], json: Bool) {
        if json {
            Console.json([
                "bootstrapServers": .string(cluster.bootstrapServers),
                "brokers": .integer(cluster.brokerCount),
                "topics": .array(topics.map { ["name": .string($0.name), "partitions": .integer($0.partitions)] }),
            ])
        } else {
            Console.output("bootstrap.servers=\(cluster.bootstrapServers)")
        }
        let topicList = topics.map { "\($0.name):\($0.partitions)" }.joined(separator: ", ")
        Console.log(
            "mock cluster of \(cluster.brokerCount) broker(s) at \(cluster.bootstrapServers)"
                + (topics.isEmpty ? "" : "; topics \(topicList)")
                + "; press Ctrl-C to stop"
        )
    }
}
