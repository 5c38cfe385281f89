import CRDKafka

import struct Foundation.Date

/// A record header: a name and an optional value.
public struct KafkaHeader: Sendable, Hashable {
    /// The header's name.
    public var name: String
    /// The header's value; `nil` for a header sent with a null value.
    public var value: [UInt8]?

    /// Creates a header with raw bytes.
    public init(name: String, value: [UInt8]?) {
        self.name = name
        self.value = value
    }

    /// Creates a header whose value is UTF-8 text.
    public init(name: String, text: String) {
        self.init(name: name, value: Array(text.utf8))
    }

    /// The value decoded as UTF-8, or `nil` when there is no value or it is not valid UTF-8.
    public var text: String? {
        value.flatMap { String(validating: $0, as: UTF8.self) }
    }
}

/// One record consumed from Kafka.
///
/// A record with no value (a tombstone) is an ordinary message here: ``value`` is `nil`
/// and nothing else changes.
public struct KafkaMessage: Sendable, Hashable {
    /// The topic the record was read from.
    public var topic: String
    /// The partition the record was read from.
    public var partition: Int32
    /// The record's offset in its partition.
    public var offset: Int64
    /// The record key, if it has one.
    public var key: [UInt8]?
    /// The record value; `nil` for a tombstone.
    public var value: [UInt8]?
    /// The record headers, in the order the producer wrote them.
    public var headers: [KafkaHeader]
    /// The record timestamp, when the broker or producer set one.
    public var timestamp: Date?

    /// Creates a message, for tests and for producing.
    public init(
        topic: String,
        partition: Int32,
        offset: Int64,
        key: [UInt8]? = nil,
        value: [UInt8]? = nil,
        headers: [KafkaHeader] = [],
        timestamp: Date? = nil
    ) {
        self.topic = topic
        self.partition = partition
        self.offset = offset
        self.key = key
        self.value = value
        self.headers = headers
        self.timestamp = timestamp
    }

    /// Whether the record has no value.
    public var isTombstone: Bool { value == nil }

    /// The first header with this name, or `nil`.
    public func header(_ name: String) -> KafkaHeader? {
        headers.first { $0.name == name }
    }

    /// The value decoded as UTF-8, or `nil` for a tombstone or bytes that are not UTF-8.
    public var valueText: String? {
        value.flatMap { String(validating: $0, as: UTF8.self) }
    }

    /// The key decoded as UTF-8, or `nil`.
    public var keyText: String? {
        key.flatMap { String(validating: $0, as: UTF8.self) }
    }

    /// The record's position: topic, partition and offset.
    public var coordinates: KafkaTopicPartitionOffset {
        KafkaTopicPartitionOffset(topic: topic, partition: partition, offset: offset)
    }
}

extension KafkaMessage {
    /// Copies a librdkafka message into Swift values; `topic` is passed in so a batch shares one string.
    init(_ raw: UnsafePointer<rd_kafka_message_t>, topic: String) {
        let message = raw.pointee
        self.topic = topic
        self.partition = message.partition
        self.offset = message.offset
        self.key = Self.bytes(message.key, message.key_len)
        self.value = Self.bytes(message.payload, message.len)
        self.headers = Self.headers(of: raw)

        var kind = RD_KAFKA_TIMESTAMP_NOT_AVAILABLE
        let milliseconds = rd_kafka_message_timestamp(raw, &kind)
        self.timestamp =
            kind == RD_KAFKA_TIMESTAMP_NOT_AVAILABLE
            ? nil : Date(timeIntervalSince1970: Double(milliseconds) / 1000)
    }

    private static func bytes(_ pointer: UnsafeMutableRawPointer?, _ count: Int) -> [UInt8]? {
        guard let pointer else { return nil }
        return Array(UnsafeRawBufferPointer(start: pointer, count: count))
    }

    private static func headers(of raw: UnsafePointer<rd_kafka_message_t>) -> [KafkaHeader] {
        var list: OpaquePointer?
        guard rd_kafka_message_headers(raw, &list) == RD_KAFKA_RESP_ERR_NO_ERROR, let list else { return [] }

        let count = rd_kafka_header_cnt(list)
        var headers: [KafkaHeader] = []
        headers.reserveCapacity(count)
        for index in 0..<count {
            var name: UnsafePointer<CChar>?
            var value: UnsafeRawPointer?
            var size = 0
            guard rd_kafka_header_get_all(list, index, &name, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR,
                let name
            else { continue }
            let bytes = value.map { Array(UnsafeRawBufferPointer(start: $0, count: size)) }
            headers.append(KafkaHeader(name: String(cString: name), value: bytes))
        }
        return headers
    }
}
