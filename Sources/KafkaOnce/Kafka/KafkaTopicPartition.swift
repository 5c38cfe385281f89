import CRDKafka

/// A topic and one of its partitions.
public struct KafkaTopicPartition: Sendable, Hashable, CustomStringConvertible {
    /// The topic's name.
    public var topic: String
    /// The partition's number, from 0.
    public var partition: Int32

    /// Creates a topic partition.
    public init(topic: String, partition: Int32) {
        self.topic = topic
        self.partition = partition
    }

    /// `topic[partition]`, such as `orders[3]`.
    public var description: String { "\(topic)[\(partition)]" }
}

/// A topic, a partition and an offset in it: a record's position, or a position to commit or seek to.
public struct KafkaTopicPartitionOffset: Sendable, Hashable, CustomStringConvertible {
    /// The topic's name.
    public var topic: String
    /// The partition's number, from 0.
    public var partition: Int32
    /// The offset in the partition, or one of the special values of ``KafkaOffset``.
    ///
    /// For a commit, this is the offset of the *next* record to read, one past the last record
    /// processed.
    public var offset: Int64

    /// Creates a position in a topic partition.
    public init(topic: String, partition: Int32, offset: Int64) {
        self.topic = topic
        self.partition = partition
        self.offset = offset
    }

    /// The topic and partition without the offset.
    public var topicPartition: KafkaTopicPartition {
        KafkaTopicPartition(topic: topic, partition: partition)
    }

    /// `topic[partition]@offset`, such as `orders[3]@1042`.
    public var description: String { "\(topic)[\(partition)]@\(offset)" }
}

/// Special offsets librdkafka understands in place of a real one.
public enum KafkaOffset {
    /// The first offset still held by the broker.
    public static let beginning: Int64 = Int64(RD_KAFKA_OFFSET_BEGINNING)
    /// The offset after the last record (the high watermark).
    public static let end: Int64 = Int64(RD_KAFKA_OFFSET_END)
    /// The committed offset, or the reset policy when there is none.
    public static let stored: Int64 = Int64(RD_KAFKA_OFFSET_STORED)
    /// No offset: nothing committed, or no position yet.
    public static let invalid: Int64 = Int64(RD_KAFKA_OFFSET_INVALID)
}

// MARK: - Conversion to and from librdkafka lists

extension Array where Element == KafkaTopicPartitionOffset {
    /// Makes a librdkafka partition list; the caller destroys it.
    func makeRDKafkaList() -> UnsafeMutablePointer<rd_kafka_topic_partition_list_t> {
        let list = rd_kafka_topic_partition_list_new(Int32(count))!
        for element in self {
            rd_kafka_topic_partition_list_add(list, element.topic, element.partition).pointee.offset = element.offset
        }
        return list
    }

    /// Reads a librdkafka partition list.
    init(rdKafkaList list: UnsafePointer<rd_kafka_topic_partition_list_t>) {
        let count = Int(list.pointee.cnt)
        self = (0..<count).map { index in
            let element = list.pointee.elems[index]
            return KafkaTopicPartitionOffset(
                topic: String(cString: element.topic),
                partition: element.partition,
                offset: element.offset
            )
        }
    }
}

extension Array where Element == KafkaTopicPartition {
    /// Makes a librdkafka partition list with no offsets; the caller destroys it.
    func makeRDKafkaList() -> UnsafeMutablePointer<rd_kafka_topic_partition_list_t> {
        map { KafkaTopicPartitionOffset(topic: $0.topic, partition: $0.partition, offset: KafkaOffset.invalid) }
            .makeRDKafkaList()
    }

    /// Reads the topics and partitions of a librdkafka partition list.
    init(rdKafkaList list: UnsafePointer<rd_kafka_topic_partition_list_t>) {
        self = [KafkaTopicPartitionOffset](rdKafkaList: list).map(\.topicPartition)
    }
}
