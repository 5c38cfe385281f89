import CRDKafka
import Synchronization

import class Foundation.Thread

/// A Kafka consumer: subscribe or assign, poll batches, pause, seek and commit.
///
/// Offsets are never committed automatically: call ``commit(_:)``, ``commitAsync(_:)`` or, inside
/// a rebalance hook, ``commitSynchronously(_:)``. The blocking calls (poll, synchronous commit,
/// seek, committed offsets, close) run on a thread the consumer owns, never on the Swift
/// cooperative pool; the others return at once.
///
/// ```swift
/// let consumer = try KafkaConsumer(configuration: .init(bootstrapServers: servers, groupID: "audit"))
/// try consumer.subscribe(topics: ["orders"])
/// let batch = try await consumer.poll()
/// try await consumer.commit(batch.nextOffsets)
/// try await consumer.close()
/// ```
public final class KafkaConsumer: Sendable {
    /// The settings the consumer was created with.
    public let configuration: KafkaConsumerConfiguration
    let client: RDKafkaClient
    private let worker: BlockingWorker
    private let fetchWakeup: FetchWakeup?
    private let context: ConsumerContext
    private let isClosed = Mutex(false)
    private let isSubscribed = Atomic(false)

    /// Creates a consumer.
    ///
    /// - Parameters:
    ///   - configuration: Brokers, group and settings.
    ///   - events: Callbacks for rebalances, commit outcomes and client errors.
    ///   - logger: Receives librdkafka's own log lines at `debug` and client errors at `info`.
    /// - Throws: ``KafkaError`` with code ``KafkaError/Code/configuration`` naming a rejected property.
    public init(
        configuration: KafkaConsumerConfiguration,
        events: KafkaConsumerEvents = KafkaConsumerEvents(),
        logger: KafkaOnceLogger = .disabled
    ) throws {
        let context = ConsumerContext(events: events, logger: logger)
        let rdConfiguration = try RDKafkaConfiguration.make(configuration.librdkafkaProperties)
        rd_kafka_conf_set_opaque(rdConfiguration, Unmanaged.passUnretained(context).toOpaque())
        rd_kafka_conf_set_rebalance_cb(rdConfiguration, rebalanceCallback)
        rd_kafka_conf_set_offset_commit_cb(rdConfiguration, offsetCommitCallback)
        rd_kafka_conf_set_error_cb(rdConfiguration, errorCallback)
        rd_kafka_conf_set_log_cb(rdConfiguration, logCallback)

        self.configuration = configuration
        self.context = context
        self.client = try RDKafkaClient(
            type: RD_KAFKA_CONSUMER,
            configuration: rdConfiguration,
            context: context,
            what: "consumer"
        )
        self.worker = BlockingWorker(name: "kafka-once.consumer.\(configuration.groupID)")
        self.fetchWakeup = configuration.fetchWakeupInterval.map { FetchWakeup(interval: $0) }
        rd_kafka_poll_set_consumer(client.handle)
        context.consumer = self
    }

    // MARK: - Membership

    /// Joins the group and lets it assign partitions of `topics`.
    ///
    /// The first assignment arrives during a later poll, through the rebalance hook.
    public func subscribe(topics: [String]) throws {
        try ensureOpen("subscribe")
        let list = topics.map { KafkaTopicPartition(topic: $0, partition: Int32(RD_KAFKA_PARTITION_UA)) }
            .makeRDKafkaList()
        defer { rd_kafka_topic_partition_list_destroy(list) }

        let err = rd_kafka_subscribe(client.handle, list)
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR else {
            throw KafkaError.rdKafka(err, "cannot subscribe to \(topics)")
        }
        isSubscribed.store(true, ordering: .releasing)
    }

    /// Reads exactly these partitions, without group membership; offsets may be real or
    /// ``KafkaOffset`` values.
    public func assign(_ partitions: [KafkaTopicPartitionOffset]) async throws {
        try ensureOpen("assign")
        try await worker.run { [client] in
            let list = partitions.makeRDKafkaList()
            defer { rd_kafka_topic_partition_list_destroy(list) }
            let err = rd_kafka_assign(client.handle, list)
            guard err == RD_KAFKA_RESP_ERR_NO_ERROR else {
                throw KafkaError.rdKafka(err, "cannot assign \(partitions)")
            }
        }
    }

    /// The partitions currently assigned.
    public func assignment() throws -> [KafkaTopicPartition] {
        var list: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>?
        let err = rd_kafka_assignment(client.handle, &list)
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR, let list else {
            throw KafkaError.rdKafka(err, "cannot read the assignment")
        }
        defer { rd_kafka_topic_partition_list_destroy(list) }
        return [KafkaTopicPartition](rdKafkaList: list)
    }

    /// Checks that a broker answers, and returns the cluster's topics.
    ///
    /// - Throws: A one-line ``KafkaError`` naming the bootstrap servers when none answers in `timeout`.
    public func metadata(timeout: Duration = .seconds(10)) async throws -> KafkaClusterMetadata {
        try await worker.run { [client, configuration] in
            try client.metadata(timeout: timeout, bootstrapServers: configuration.bootstrapServers)
        }
    }

    // MARK: - Polling

    /// Waits up to `timeout` for records and returns at most `maxMessages` of them.
    ///
    /// Rebalance, commit and error callbacks run inside this call, on the consumer's thread.
    /// An empty array means nothing arrived in time.
    public func poll(maxMessages: Int = 1000, timeout: Duration = .milliseconds(100)) async throws -> [KafkaMessage] {
        try await worker.run { [self] in
            try pollSynchronously(maxMessages: maxMessages, timeout: timeout)
        }
    }

    /// The blocking form of ``poll(maxMessages:timeout:)``.
    ///
    /// - Important: This blocks the calling thread. Call it only from a thread you own, never
    ///   from a task on the cooperative pool.
    public func pollSynchronously(maxMessages: Int, timeout: Duration) throws -> [KafkaMessage] {
        try ensureOpen("poll")
        var messages: [KafkaMessage] = []
        messages.reserveCapacity(min(maxMessages, 4096))
        var topicCache = TopicNameCache()
        var wait = Int32(clamping: timeout.milliseconds)

        while messages.count < maxMessages {
            guard let raw = rd_kafka_consumer_poll(client.handle, wait) else {
                if !messages.isEmpty { fetchWakeup?.queueEmptied(client) { [weak self] in self?.isOpen ?? false } }
                break
            }
            wait = 0
            defer { rd_kafka_message_destroy(raw) }

            if raw.pointee.err == RD_KAFKA_RESP_ERR_NO_ERROR {
                messages.append(KafkaMessage(raw, topic: topicCache.name(of: raw.pointee.rkt)))
            } else {
                context.report(consumerError: raw, topic: topicCache.name(of: raw.pointee.rkt))
            }
        }
        return messages
    }

    // MARK: - Flow control

    /// Stops fetching these partitions until ``resume(_:)``; polling goes on, so the member keeps
    /// its place in the group.
    public func pause(_ partitions: [KafkaTopicPartition]) throws {
        let list = partitions.makeRDKafkaList()
        defer { rd_kafka_topic_partition_list_destroy(list) }
        let err = rd_kafka_pause_partitions(client.handle, list)
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR else { throw KafkaError.rdKafka(err, "cannot pause \(partitions)") }
    }

    /// Fetches paused partitions again, from the position after the last record returned by a poll.
    public func resume(_ partitions: [KafkaTopicPartition]) throws {
        let list = partitions.makeRDKafkaList()
        defer { rd_kafka_topic_partition_list_destroy(list) }
        let err = rd_kafka_resume_partitions(client.handle, list)
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR else { throw KafkaError.rdKafka(err, "cannot resume \(partitions)") }
    }

    /// Moves the fetch position of assigned partitions.
    public func seek(_ positions: [KafkaTopicPartitionOffset], timeout: Duration = .seconds(10)) async throws {
        try await worker.run { [client] in
            let list = positions.makeRDKafkaList()
            defer { rd_kafka_topic_partition_list_destroy(list) }
            if let error = rd_kafka_seek_partitions(client.handle, list, Int32(timeout.milliseconds)) {
                throw KafkaError.consuming(error, "cannot seek to \(positions)")
            }
        }
    }

    /// The offset of the next record each partition will return.
    public func position(_ partitions: [KafkaTopicPartition]) throws -> [KafkaTopicPartitionOffset] {
        let list = partitions.makeRDKafkaList()
        defer { rd_kafka_topic_partition_list_destroy(list) }
        let err = rd_kafka_position(client.handle, list)
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR else {
            throw KafkaError.rdKafka(err, "cannot read the position of \(partitions)")
        }
        return [KafkaTopicPartitionOffset](rdKafkaList: list)
    }

    /// The low and high watermarks last seen for a partition, without a broker round trip;
    /// `nil` before the first fetch.
    public func cachedWatermarks(_ partition: KafkaTopicPartition) -> (low: Int64, high: Int64)? {
        var low: Int64 = -1
        var high: Int64 = -1
        let err = rd_kafka_get_watermark_offsets(client.handle, partition.topic, partition.partition, &low, &high)
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR, high >= 0 else { return nil }
        return (low, high)
    }

    /// Asks the partition leader for the current low and high watermarks.
    public func queryWatermarks(
        _ partition: KafkaTopicPartition,
        timeout: Duration = .seconds(10)
    ) async throws -> (low: Int64, high: Int64) {
        try await worker.run { [client] in
            var low: Int64 = -1
            var high: Int64 = -1
            let err = rd_kafka_query_watermark_offsets(
                client.handle,
                partition.topic,
                partition.partition,
                &low,
                &high,
                Int32(timeout.milliseconds)
            )
            guard err == RD_KAFKA_RESP_ERR_NO_ERROR else {
                throw KafkaError.rdKafka(err, "cannot read the watermarks of \(partition)")
            }
            return (low, high)
        }
    }

    // MARK: - Offsets

    /// The group's committed offsets for `partitions` (``KafkaOffset/invalid`` where none).
    public func committed(
        _ partitions: [KafkaTopicPartition],
        timeout: Duration = .seconds(10)
    ) async throws -> [KafkaTopicPartitionOffset] {
        try await worker.run { [client] in
            let list = partitions.makeRDKafkaList()
            defer { rd_kafka_topic_partition_list_destroy(list) }
            let err = rd_kafka_committed(client.handle, list, Int32(timeout.milliseconds))
            guard err == RD_KAFKA_RESP_ERR_NO_ERROR else {
                throw KafkaError.rdKafka(err, "cannot read the committed offsets of \(partitions)")
            }
            return [KafkaTopicPartitionOffset](rdKafkaList: list)
        }
    }

    /// Commits `offsets` (each the offset of the *next* record to read) and waits for the broker.
    ///
    /// - Throws: ``KafkaError`` when the broker refuses the commit, with ``KafkaError/isRetriable``
    ///   telling whether the group was merely moving.
    public func commit(_ offsets: [KafkaTopicPartitionOffset]) async throws {
        try await worker.run { [self] in try commitSynchronously(offsets) }
    }

    /// The blocking form of ``commit(_:)``, for rebalance hooks and threads you own.
    ///
    /// - Important: This blocks the calling thread. In a rebalance hook that is what you want:
    ///   the partitions stay assigned until the commit is answered.
    public func commitSynchronously(_ offsets: [KafkaTopicPartitionOffset]) throws {
        guard !offsets.isEmpty else { return }
        let list = offsets.makeRDKafkaList()
        defer { rd_kafka_topic_partition_list_destroy(list) }

        let err = rd_kafka_commit(client.handle, list, 0)
        if err != RD_KAFKA_RESP_ERR_NO_ERROR {
            throw KafkaError.rdKafka(err, "the broker refused the commit of \(offsets)")
        }
        if let failed = [KafkaTopicPartitionOffset](rdKafkaList: list).indices.first(where: {
            list.pointee.elems[$0].err != RD_KAFKA_RESP_ERR_NO_ERROR
        }) {
            let element = list.pointee.elems[failed]
            throw KafkaError.rdKafka(element.err, "the broker refused the commit of \(offsets[failed])")
        }
    }

    /// Sends a commit and returns at once; the outcome reaches ``KafkaConsumerEvents/commit``
    /// during a later poll. Nothing is dropped: a refused commit is reported there as an error.
    public func commitAsync(_ offsets: [KafkaTopicPartitionOffset]) throws {
        guard !offsets.isEmpty else { return }
        let list = offsets.makeRDKafkaList()
        defer { rd_kafka_topic_partition_list_destroy(list) }
        let err = rd_kafka_commit(client.handle, list, 1)
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR else {
            throw KafkaError.rdKafka(err, "cannot send the commit of \(offsets)")
        }
    }

    // MARK: - Closing

    /// Leaves the group so its partitions move to other members at once, then stops the
    /// consumer's thread. The rebalance hook runs one last time with the revoked partitions.
    ///
    /// With librdkafka before 2.3.0, a cooperative-sticky consumer closed before its first
    /// assignment arrived first waits for that assignment, up to its session timeout (at least
    /// 10 s), because destroying it in between aborts the process (confluentinc/librdkafka#4312).
    /// Should the assignment not come in time, its handle is left allocated until the process
    /// exits instead, with a warning.
    ///
    /// - Important: A consumer released without `close()` is closed all the same, on a thread of
    ///   its own, with a warning in the log. Its rebalance hook is no longer called then; the
    ///   ``KafkaConsumerEvents/error`` and ``KafkaConsumerEvents/commit`` callbacks still are, on
    ///   that thread, and nothing waits for it: a process that exits first ends it. Call `close()`
    ///   to wait for the group to let go and to receive its errors.
    public func close() async throws {
        let wasClosed = isClosed.withLock { closed in
            defer { closed = true }
            return closed
        }
        guard !wasClosed else { return }

        defer { worker.stop() }
        fetchWakeup?.stop()
        let subscribed = isSubscribed.load(ordering: .acquiring)
        try await worker.run { [client, context, configuration] in
            try Self.leave(client, context, configuration, subscribed: subscribed)
        }
    }

    deinit {
        // close() and abandon() mark the consumer closed; anything else still has to be closed.
        guard !isClosed.withLock({ $0 }) else { return }
        fetchWakeup?.stop()
        worker.stop()
        let group = ["kafka.group.id": configuration.groupID]
        context.logger.log(
            .warning,
            "consumer released without close(): closing it on a thread of its own",
            metadata: group
        )

        // The thread takes a reference of its own, outside ARC's view of this object, and keeps it
        // until it is the last one: librdkafka's blocking destroy then runs there, not here.
        let handoff = Unmanaged.passRetained(client)
        let subscribed = isSubscribed.load(ordering: .acquiring)
        startThread(named: "kafka-once.close") { [context, configuration] in
            var client = handoff.takeRetainedValue()
            do {
                try Self.leave(client, context, configuration, subscribed: subscribed)
                context.logger.log(.debug, "consumer released without close() is closed", metadata: group)
            } catch {
                context.logger.log(
                    .warning,
                    "closing a consumer released without close() failed",
                    metadata: ["kafka.group.id": configuration.groupID, "kafka.error": "\(error)"]
                )
            }
            while !isKnownUniquelyReferenced(&client) { Thread.sleep(forTimeInterval: 0.001) }
        }
    }

    /// The blocking steps of closing: the first-assignment guard, then leaving the group.
    private static func leave(
        _ client: RDKafkaClient,
        _ context: ConsumerContext,
        _ configuration: KafkaConsumerConfiguration,
        subscribed: Bool
    ) throws {
        waitForFirstAssignmentIfNeeded(client, context, configuration, subscribed: subscribed)
        let err = rd_kafka_consumer_close(client.handle)
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR else {
            throw KafkaError.rdKafka(err, "leaving the group did not finish cleanly")
        }
    }

    /// Runs on a thread the consumer owns, before leaving the group (``FirstAssignmentGuard``).
    private static func waitForFirstAssignmentIfNeeded(
        _ client: RDKafkaClient,
        _ context: ConsumerContext,
        _ configuration: KafkaConsumerConfiguration,
        subscribed: Bool
    ) {
        let isAssigned = { context.hasBeenAssigned.load(ordering: .acquiring) }
        guard FirstAssignmentGuard.isNeeded(configuration, subscribed: subscribed, assigned: isAssigned()) else {
            return
        }
        let bound = max(configuration.sessionTimeout, .seconds(10))
        if !FirstAssignmentGuard.waitForFirstAssignment(client.handle, until: .now + bound, isAssigned: isAssigned) {
            client.isNeverDestroyed.store(true, ordering: .releasing)
            context.logger.log(
                .warning,
                "closed before the group's first assignment: the librdkafka handle is kept until the process exits, "
                    + "because destroying it now would abort (confluentinc/librdkafka#4312; fixed in librdkafka 2.3.0)",
                metadata: ["kafka.group.id": configuration.groupID]
            )
        }
    }

    /// Drops the consumer as a crash would: no final commit, no leaving the group. Its
    /// partitions stay with the dead member until the session timeout. For chaos tests.
    @_spi(Testing)
    public func abandon() {
        isClosed.withLock { $0 = true }
        client.destroysWithoutClosing.store(true, ordering: .releasing)
        fetchWakeup?.stop()
        worker.stop()
    }

    private var isOpen: Bool { !isClosed.withLock { $0 } }

    /// Runs a blocking librdkafka call on the consumer's thread.
    func runBlocking<Value: Sendable>(_ body: @escaping @Sendable (OpaquePointer) throws -> Value) async throws -> Value
    {
        try await worker.run { [client] in try body(client.handle) }
    }

    private func ensureOpen(_ operation: String) throws {
        if isClosed.withLock({ $0 }) {
            throw KafkaError(code: .closed, message: "cannot \(operation): the consumer is closed")
        }
    }
}

extension Array where Element == KafkaMessage {
    /// For each partition in the batch, the offset after its last message: what to commit once
    /// every message of the batch is done.
    public var nextOffsets: [KafkaTopicPartitionOffset] {
        var next: [KafkaTopicPartition: Int64] = [:]
        for message in self {
            let partition = KafkaTopicPartition(topic: message.topic, partition: message.partition)
            next[partition] = Swift.max(next[partition] ?? 0, message.offset + 1)
        }
        return next.map {
            KafkaTopicPartitionOffset(topic: $0.key.topic, partition: $0.key.partition, offset: $0.value)
        }
        .sorted { ($0.topic, $0.partition) < ($1.topic, $1.partition) }
    }
}

/// Remembers the last topic handle's name, so a batch from one topic builds its name once.
struct TopicNameCache {
    private var last: OpaquePointer?
    private var lastName = ""

    mutating func name(of topic: OpaquePointer?) -> String {
        guard let topic else { return "" }
        if topic != last {
            last = topic
            lastName = String(cString: rd_kafka_topic_name(topic))
        }
        return lastName
    }
}
