import CRDKafka

import struct Foundation.Date

extension KafkaConsumer {
    /// How many members a consumer group has right now, as its coordinator reports it.
    ///
    /// - Throws: ``KafkaError`` when the cluster does not answer, or does not support describing
    ///   groups (librdkafka's embedded mock cluster does not).
    public func memberCount(ofGroup group: String, timeout: Duration = .seconds(10)) async throws -> Int {
        try await runBlocking { handle in
            var list: UnsafePointer<rd_kafka_group_list>?
            let err = rd_kafka_list_groups(handle, group, &list, Int32(timeout.milliseconds))
            guard err == RD_KAFKA_RESP_ERR_NO_ERROR, let list else {
                throw KafkaError.rdKafka(err, "cannot describe group '\(group)'")
            }
            defer { rd_kafka_group_list_destroy(list) }
            let groups = UnsafeBufferPointer(start: list.pointee.groups, count: Int(list.pointee.group_cnt))
            guard let info = groups.first(where: { String(cString: $0.group) == group }) else { return 0 }
            if info.err != RD_KAFKA_RESP_ERR_NO_ERROR {
                throw KafkaError.rdKafka(info.err, "cannot describe group '\(group)'")
            }
            return Int(info.member_cnt)
        }
    }

    /// For each partition, the offset of the first record at or after `timestamp`
    /// (``KafkaOffset/end`` when there is none).
    public func offsets(
        at timestamp: Date,
        for partitions: [KafkaTopicPartition],
        timeout: Duration = .seconds(10)
    ) async throws -> [KafkaTopicPartitionOffset] {
        let milliseconds = Int64(timestamp.timeIntervalSince1970 * 1000)
        return try await runBlocking { handle in
            let list = partitions.map {
                KafkaTopicPartitionOffset(topic: $0.topic, partition: $0.partition, offset: milliseconds)
            }.makeRDKafkaList()
            defer { rd_kafka_topic_partition_list_destroy(list) }
            let err = rd_kafka_offsets_for_times(handle, list, Int32(timeout.milliseconds))
            guard err == RD_KAFKA_RESP_ERR_NO_ERROR else {
                throw KafkaError.rdKafka(err, "cannot look up the offsets at \(timestamp) of \(partitions)")
            }
            return [KafkaTopicPartitionOffset](rdKafkaList: list)
        }
    }
}
