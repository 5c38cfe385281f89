import Foundation
import KafkaOnce
import KafkaOnceTesting
import Testing

@Suite struct KafkaRoundTripTests {
    @Test func producedKeysValuesHeadersAndTombstonesComeBackUnchanged() async throws {
        let cluster = try MockKafkaCluster()
        try cluster.createTopic("round-trip", partitions: 1)
        let producer = try KafkaProducer(configuration: .init(bootstrapServers: cluster.bootstrapServers))

        let records = [
            KafkaProducerRecord(
                topic: "round-trip",
                partition: 0,
                key: Array("order-1".utf8),
                value: Array("{\"amount\":12}".utf8),
                headers: [KafkaHeader(name: "idempotency-key", text: "id-1"), KafkaHeader(name: "empty", value: nil)]
            ),
            KafkaProducerRecord(topic: "round-trip", partition: 0, key: Array("order-1".utf8), value: nil),
            KafkaProducerRecord(topic: "round-trip", partition: 0, key: nil, value: []),
        ]
        let positions = try await producer.send(records)
        #expect(positions.map(\.offset) == [0, 1, 2])
        try await producer.close()

        let consumer = try KafkaConsumer(configuration: .init(bootstrapServers: cluster.bootstrapServers, groupID: "g"))
        try await consumer.assign([KafkaTopicPartitionOffset(topic: "round-trip", partition: 0, offset: 0)])
        let messages = try await pollUntil(consumer, count: 3)
        try await consumer.close()

        #expect(messages.map(\.keyText) == ["order-1", "order-1", nil])
        #expect(messages[0].valueText == "{\"amount\":12}")
        #expect(messages[0].header("idempotency-key")?.text == "id-1")
        #expect(messages[0].headers.count == 2)
        #expect(messages[0].header("empty")?.value == nil)
        #expect(messages[1].isTombstone)
        #expect(messages[2].value == [])
        #expect(!messages[2].isTombstone)
        #expect(messages.allSatisfy { $0.timestamp != nil })
    }
}

/// Polls until `count` messages arrived or 20 seconds passed.
func pollUntil(
    _ consumer: KafkaConsumer,
    count: Int,
    within limit: Duration = .seconds(20)
) async throws
    -> [KafkaMessage]
{
    var messages: [KafkaMessage] = []
    let deadline = ContinuousClock.now + limit
    while messages.count < count && ContinuousClock.now < deadline {
        messages += try await consumer.poll(maxMessages: count - messages.count, timeout: .milliseconds(200))
    }
    return messages
}
