import Foundation
import KafkaOnce
import KafkaOnceTesting

/// The Kafka cluster the example talks to: the brokers named by `KAFKA_BOOTSTRAP_SERVERS`, or an
/// embedded one started in this process.
struct ExampleBroker: Sendable, CustomStringConvertible {
    /// The `bootstrap.servers` value of the cluster.
    let bootstrapServers: String
    /// The embedded cluster, when no real one was named; it lives as long as this value.
    let embedded: MockKafkaCluster?

    var isEmbedded: Bool { embedded != nil }

    /// `embedded broker at HOST:PORT` or `Kafka at HOST:PORT`.
    var description: String {
        (isEmbedded ? "embedded broker at " : "Kafka at ") + bootstrapServers
    }

    /// Uses the brokers in `KAFKA_BOOTSTRAP_SERVERS`, or starts an embedded cluster with `topics`.
    ///
    /// - Important: A real broker is expected to create topics on first use
    ///   (`auto.create.topics.enable`, on in the repository's compose.yaml), with its default
    ///   number of partitions.
    static func start(topics: [String: Int]) throws -> ExampleBroker {
        let servers = ProcessInfo.processInfo.environment["KAFKA_BOOTSTRAP_SERVERS"] ?? ""
        if !servers.isEmpty {
            return ExampleBroker(bootstrapServers: servers, embedded: nil)
        }
        let cluster = try MockKafkaCluster()
        for (topic, partitions) in topics {
            try cluster.createTopic(topic, partitions: partitions)
        }
        return ExampleBroker(bootstrapServers: cluster.bootstrapServers, embedded: cluster)
    }

    /// Stops the embedded cluster, if there is one.
    func shutdown() {
        embedded?.shutdown()
    }

    /// Produces `records` and waits until the broker acknowledged each one.
    func produce(_ records: [KafkaProducerRecord]) async throws {
        let configuration = KafkaProducerConfiguration(bootstrapServers: bootstrapServers)
        let producer = try KafkaProducer(configuration: configuration)
        try await producer.send(records)
        try await producer.close()
    }
}
