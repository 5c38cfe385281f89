/// Produces failed messages to the dead-letter topic, with headers that say where they came from
/// and why they failed.
///
/// Headers added to the original ones:
///
/// | header | value |
/// |---|---|
/// | `kafka-once-origin-topic` | the topic the message was read from |
/// | `kafka-once-origin-partition` | its partition |
/// | `kafka-once-origin-offset` | its offset |
/// | `kafka-once-error` | the last error, one line |
/// | `kafka-once-attempts` | how many times the handler ran |
/// | `kafka-once-idempotency-key` | the message's idempotency key |
struct DeadLetterPublisher: Sendable {
    let producer: KafkaProducer

    init(bootstrapServers: String, properties: [String: String], logger: KafkaOnceLogger) throws {
        var configuration = KafkaProducerConfiguration(bootstrapServers: bootstrapServers)
        configuration.clientID = "kafka-once-dead-letters"
        configuration.properties = properties
        producer = try KafkaProducer(configuration: configuration, logger: logger)
    }

    /// Produces `message` to `topic` and waits for the broker's acknowledgement.
    func publish(
        _ message: KafkaMessage,
        to topic: String,
        key: String,
        error: String,
        attempts: Int
    ) async throws {
        let headers =
            message.headers + [
                KafkaHeader(name: "kafka-once-origin-topic", text: message.topic),
                KafkaHeader(name: "kafka-once-origin-partition", text: String(message.partition)),
                KafkaHeader(name: "kafka-once-origin-offset", text: String(message.offset)),
                KafkaHeader(name: "kafka-once-error", text: error),
                KafkaHeader(name: "kafka-once-attempts", text: String(attempts)),
                KafkaHeader(name: "kafka-once-idempotency-key", text: key),
            ]
        try await producer.send(
            KafkaProducerRecord(topic: topic, key: message.key, value: message.value, headers: headers)
        )
    }

    func close() async {
        try? await producer.close(timeout: .seconds(10))
    }
}
