import CRDKafka
import Synchronization

/// Owns an `rd_kafka_t` handle and whatever its callbacks point at.
///
/// librdkafka's handle is thread-safe for every call this package makes from more than one
/// thread; polls are kept on one thread by their owners. `context` is stored here so it is
/// released only after the handle is destroyed: librdkafka may call back into it until then.
final class RDKafkaClient: @unchecked Sendable {
    let handle: OpaquePointer
    private let context: AnyObject?
    /// Set to destroy the handle as a crash would leave it: without leaving the group or committing.
    let destroysWithoutClosing = Atomic(false)
    /// Set to keep the handle allocated until the process exits, never destroying it
    /// (``FirstAssignmentGuard``).
    let isNeverDestroyed = Atomic(false)

    /// Creates a client of `type` from a configuration it takes ownership of.
    init(type: rd_kafka_type_t, configuration: OpaquePointer, context: AnyObject?, what: String) throws {
        var message = [CChar](repeating: 0, count: 512)
        guard let handle = rd_kafka_new(type, configuration, &message, message.count) else {
            // rd_kafka_new only takes ownership of the configuration when it succeeds.
            rd_kafka_conf_destroy(configuration)
            throw KafkaError(
                code: .configuration,
                message: "cannot create the \(what): \(RDKafkaConfiguration.string(from: message))"
            )
        }
        self.handle = handle
        self.context = context
    }

    deinit {
        if isNeverDestroyed.load(ordering: .acquiring) {
            return
        } else if destroysWithoutClosing.load(ordering: .acquiring) {
            rd_kafka_destroy_flags(handle, Int32(RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE))
        } else {
            rd_kafka_destroy(handle)
        }
    }

    /// The cluster's brokers and topics, or a clear error when no broker answers in time.
    func metadata(timeout: Duration, bootstrapServers: String) throws -> KafkaClusterMetadata {
        var metadata: UnsafePointer<rd_kafka_metadata>?
        let err = rd_kafka_metadata(handle, 1, nil, &metadata, Int32(timeout.milliseconds))
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR, let metadata else {
            throw KafkaError.rdKafka(
                err,
                "cannot reach the Kafka brokers at '\(bootstrapServers)' within \(timeout)"
                    + " (check bootstrap.servers and that a broker is running)"
            )
        }
        defer { rd_kafka_metadata_destroy(metadata) }

        var topics: [String: Int] = [:]
        for index in 0..<Int(metadata.pointee.topic_cnt) {
            let topic = metadata.pointee.topics[index]
            guard topic.err == RD_KAFKA_RESP_ERR_NO_ERROR else { continue }
            topics[String(cString: topic.topic)] = Int(topic.partition_cnt)
        }
        return KafkaClusterMetadata(brokerCount: Int(metadata.pointee.broker_cnt), partitionCounts: topics)
    }
}

/// What a cluster reported about itself.
public struct KafkaClusterMetadata: Sendable {
    /// How many brokers the cluster has.
    public var brokerCount: Int
    /// The number of partitions of every topic the cluster reported.
    public var partitionCounts: [String: Int]
}
