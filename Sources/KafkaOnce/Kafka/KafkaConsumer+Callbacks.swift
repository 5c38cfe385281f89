import CRDKafka
import Synchronization

/// What the consumer's C callbacks reach through librdkafka's opaque pointer.
///
/// `consumer` is set once, right after the handle is created and before the first poll, so the
/// callbacks (which only run inside polls and close) always see it.
final class ConsumerContext: @unchecked Sendable {
    let events: KafkaConsumerEvents
    let logger: KafkaOnceLogger
    weak var consumer: KafkaConsumer?
    /// Whether the group has answered this member with an assignment (or a revocation) yet.
    let hasBeenAssigned = Atomic(false)

    init(events: KafkaConsumerEvents, logger: KafkaOnceLogger) {
        self.events = events
        self.logger = logger
    }

    static func from(_ opaque: UnsafeMutableRawPointer?) -> ConsumerContext? {
        opaque.map { Unmanaged<ConsumerContext>.fromOpaque($0).takeUnretainedValue() }
    }

    // MARK: - Rebalance

    /// Runs the user's hook while the change is still pending, then applies the change.
    func rebalance(
        _ handle: OpaquePointer,
        _ err: rd_kafka_resp_err_t,
        _ list: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>
    ) {
        let isCooperative = String(cString: rd_kafka_rebalance_protocol(handle)) == "COOPERATIVE"
        let partitions = [KafkaTopicPartition](rdKafkaList: list)
        hasBeenAssigned.store(true, ordering: .releasing)

        switch err {
        case RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS:
            notify(.assigned, partitions, isCooperative)
            if isCooperative {
                check(rd_kafka_incremental_assign(handle, list), "incremental assign of \(partitions)")
            } else {
                check(rd_kafka_assign(handle, list), "assign of \(partitions)")
            }

        case RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS:
            let isLost = rd_kafka_assignment_lost(handle) != 0
            notify(isLost ? .lost : .revoked, partitions, isCooperative)
            if isCooperative {
                check(rd_kafka_incremental_unassign(handle, list), "incremental unassign of \(partitions)")
            } else {
                check(rd_kafka_assign(handle, nil), "unassign of \(partitions)")
            }

        default:
            report(KafkaError.rdKafka(err, "the group rebalance failed"))
            check(rd_kafka_assign(handle, nil), "unassign after a failed rebalance")
        }
    }

    private func notify(_ kind: KafkaRebalance.Kind, _ partitions: [KafkaTopicPartition], _ isCooperative: Bool) {
        logger.log(
            .debug,
            "rebalance",
            metadata: ["kafka.rebalance": "\(kind)", "kafka.partitions": "\(partitions.count)"]
        )
        guard let hook = events.rebalance, let consumer else { return }
        hook(
            KafkaRebalance(kind: kind, partitions: partitions, protocol: isCooperative ? .cooperative : .eager),
            consumer
        )
    }

    private func check(_ error: OpaquePointer?, _ what: String) {
        if let error { report(KafkaError.consuming(error, what)) }
    }

    private func check(_ err: rd_kafka_resp_err_t, _ what: String) {
        if err != RD_KAFKA_RESP_ERR_NO_ERROR { report(KafkaError.rdKafka(err, what)) }
    }

    // MARK: - Commits, errors, logs

    func committed(_ err: rd_kafka_resp_err_t, _ list: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>?) {
        let offsets = list.map { [KafkaTopicPartitionOffset](rdKafkaList: $0) } ?? []
        var error: KafkaError?
        if err != RD_KAFKA_RESP_ERR_NO_ERROR && err != RD_KAFKA_RESP_ERR__NO_OFFSET {
            error = KafkaError.rdKafka(err, "the broker refused the commit of \(offsets)")
        } else if let list,
            let failed = (0..<Int(list.pointee.cnt)).first(where: {
                list.pointee.elems[$0].err != RD_KAFKA_RESP_ERR_NO_ERROR
            })
        {
            error = KafkaError.rdKafka(
                list.pointee.elems[failed].err,
                "the broker refused the commit of \(offsets[failed])"
            )
        }
        events.commit?(KafkaCommitResult(offsets: offsets, error: error))
    }

    /// A message that carries an error instead of a record.
    func report(consumerError raw: UnsafeMutablePointer<rd_kafka_message_t>, topic: String) {
        let err = raw.pointee.err
        guard err != RD_KAFKA_RESP_ERR__PARTITION_EOF else { return }

        let reason = raw.pointee.payload.map { String(cString: $0.assumingMemoryBound(to: CChar.self)) } ?? ""
        let partition = "\(topic)[\(raw.pointee.partition)]"
        if err == RD_KAFKA_RESP_ERR__AUTO_OFFSET_RESET {
            // The committed position is gone (retention or a truncated topic): records may have been
            // skipped, which is data loss unless the reset policy is `earliest`. Say so loudly.
            logger.log(
                .warning,
                "offset reset: the committed offset is no longer on the broker",
                metadata: ["kafka.partition": partition, "kafka.reason": reason]
            )
        }
        report(KafkaError.rdKafka(err, "consuming \(partition) failed: \(reason)"))
    }

    func report(_ error: KafkaError) {
        logger.log(.info, "consumer error", metadata: ["kafka.error": error.message])
        events.error?(error)
    }

    func log(level: Int32, facility: String, message: String) {
        // librdkafka uses syslog levels: 0 emergency … 7 debug.
        let mapped: KafkaOnceLogLevel =
            switch level {
            case ...2: .critical
            case 3: .error
            case 4: .warning
            case 5: .notice
            case 6: .info
            default: .debug
            }
        // librdkafka's own lines are diagnostics of the client, not of the application: at most `info`.
        logger.log(min(mapped, .info), message, metadata: ["rdkafka.facility": facility])
    }
}

// MARK: - C callbacks

// Each runs synchronously on the thread that polls (or, for logs, on any librdkafka thread),
// finds its context through the opaque pointer, and returns once the Swift side is done.

let rebalanceCallback:
    @convention(c) (
        OpaquePointer?, rd_kafka_resp_err_t, UnsafeMutablePointer<rd_kafka_topic_partition_list_t>?,
        UnsafeMutableRawPointer?
    ) -> Void = { handle, err, list, opaque in
        guard let handle, let list, let context = ConsumerContext.from(opaque) else { return }
        context.rebalance(handle, err, list)
    }

let offsetCommitCallback:
    @convention(c) (
        OpaquePointer?, rd_kafka_resp_err_t, UnsafeMutablePointer<rd_kafka_topic_partition_list_t>?,
        UnsafeMutableRawPointer?
    ) -> Void = { _, err, list, opaque in
        ConsumerContext.from(opaque)?.committed(err, list)
    }

let errorCallback: @convention(c) (OpaquePointer?, Int32, UnsafePointer<CChar>?, UnsafeMutableRawPointer?) -> Void = {
    _,
    err,
    reason,
    opaque in
    guard let context = ConsumerContext.from(opaque) else { return }
    let text = reason.map { String(cString: $0) } ?? ""
    context.report(KafkaError.rdKafka(rd_kafka_resp_err_t(err), "client error: \(text)"))
}

let logCallback: @convention(c) (OpaquePointer?, Int32, UnsafePointer<CChar>?, UnsafePointer<CChar>?) -> Void = {
    handle,
    level,
    facility,
    message in
    guard let handle, let context = ConsumerContext.from(rd_kafka_opaque(handle)) else { return }
    context.log(
        level: level,
        facility: facility.map { String(cString: $0) } ?? "",
        message: message.map { String(cString: $0) } ?? ""
    )
}
