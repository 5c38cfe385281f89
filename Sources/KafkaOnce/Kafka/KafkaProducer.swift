import CKafkaOnceShim
import CRDKafka
import Synchronization

/// A record to produce.
public struct KafkaProducerRecord: Sendable {
    /// The topic to write to.
    public var topic: String
    /// The partition, or `nil` to let the partitioner choose from the key.
    public var partition: Int32?
    /// The key, or `nil` for none. The default partitioner sends equal keys to one partition.
    public var key: [UInt8]?
    /// The value; `nil` produces a tombstone.
    public var value: [UInt8]?
    /// The headers, in order; a name may appear more than once.
    public var headers: [KafkaHeader]

    /// Creates a record to produce; only the topic and the value are required.
    public init(
        topic: String,
        partition: Int32? = nil,
        key: [UInt8]? = nil,
        value: [UInt8]?,
        headers: [KafkaHeader] = []
    ) {
        self.topic = topic
        self.partition = partition
        self.key = key
        self.value = value
        self.headers = headers
    }
}

/// A Kafka producer whose sends complete when the broker acknowledges the record.
///
/// Delivery reports are served on a thread the producer owns. The producer is idempotent by
/// default, so librdkafka's retries never write a record twice.
///
/// ```swift
/// let producer = try KafkaProducer(configuration: .init(bootstrapServers: servers))
/// let position = try await producer.send(KafkaProducerRecord(topic: "orders", value: Array("hi".utf8)))
/// try await producer.close()
/// ```
public final class KafkaProducer: Sendable {
    /// The settings the producer was created with.
    public let configuration: KafkaProducerConfiguration
    private let client: RDKafkaClient
    private let isClosed = Mutex(false)
    private let pollThread: BlockingWorker

    /// Creates a producer and starts serving its delivery reports.
    ///
    /// - Throws: ``KafkaError`` with code ``KafkaError/Code/configuration`` naming a rejected property.
    public init(configuration: KafkaProducerConfiguration, logger: KafkaOnceLogger = .disabled) throws {
        let rdConfiguration = try RDKafkaConfiguration.make(configuration.librdkafkaProperties)
        let context = ProducerContext(logger: logger)
        rd_kafka_conf_set_opaque(rdConfiguration, Unmanaged.passUnretained(context).toOpaque())
        rd_kafka_conf_set_dr_msg_cb(rdConfiguration, deliveryReportCallback)
        rd_kafka_conf_set_log_cb(rdConfiguration, producerLogCallback)
        self.configuration = configuration
        self.client = try RDKafkaClient(
            type: RD_KAFKA_PRODUCER,
            configuration: rdConfiguration,
            context: context,
            what: "producer"
        )
        self.pollThread = BlockingWorker(name: "kafka-once.producer")
        servePolls()
    }

    /// Serves delivery reports until the producer is closed, one short poll at a time so that
    /// `close()` is answered promptly.
    private func servePolls() {
        pollThread.submit { [weak self] in
            guard let self, !isClosed.withLock({ $0 }) else { return }
            rd_kafka_poll(client.handle, 50)
            servePolls()
        }
    }

    /// Produces one record and waits for the broker's acknowledgement.
    ///
    /// - Returns: Where the record was written.
    /// - Throws: ``KafkaError`` when the record could not be delivered within the delivery timeout.
    @discardableResult
    public func send(_ record: KafkaProducerRecord) async throws -> KafkaTopicPartitionOffset {
        try await send([record])[0]
    }

    /// Produces records and waits until every one is acknowledged.
    ///
    /// Records are enqueued in order; when librdkafka's local queue is full, enqueueing pauses
    /// (without blocking a thread) until deliveries make room.
    ///
    /// - Returns: Where each record was written, in the order of `records`.
    /// - Throws: The first delivery error, after every record has been reported.
    @discardableResult
    public func send(_ records: [KafkaProducerRecord]) async throws -> [KafkaTopicPartitionOffset] {
        try await deliver(records).map { try $0.get() }
    }

    /// Produces records and reports each one's outcome, in the order of `records`, once every
    /// record has been acknowledged or has failed.
    public func deliver(_ records: [KafkaProducerRecord]) async -> [Result<KafkaTopicPartitionOffset, KafkaError>] {
        guard !records.isEmpty else { return [] }
        let batch = DeliveryBatch(count: records.count)

        return await withCheckedContinuation { continuation in
            batch.setContinuation(continuation)
            Task {
                for (index, record) in records.enumerated() {
                    do {
                        try await enqueue(record, ticket: DeliveryTicket(batch: batch, index: index))
                    } catch {
                        let failure = error as? KafkaError ?? KafkaError(code: .state, message: "\(error)")
                        batch.deliver(index: index, .failure(failure))
                    }
                }
            }
        }
    }

    private func enqueue(_ record: KafkaProducerRecord, ticket: DeliveryTicket) async throws {
        try ensureOpen()
        let opaque = Unmanaged.passRetained(ticket).toOpaque()
        while true {
            let err = produce(record, opaque: opaque)
            if err == RD_KAFKA_RESP_ERR_NO_ERROR { return }
            if err == RD_KAFKA_RESP_ERR__QUEUE_FULL {
                try await Task.sleep(for: .milliseconds(1))
                continue
            }
            Unmanaged<DeliveryTicket>.fromOpaque(opaque).release()
            throw KafkaError.rdKafka(err, "cannot produce to '\(record.topic)'")
        }
    }

    private func produce(_ record: KafkaProducerRecord, opaque: UnsafeMutableRawPointer) -> rd_kafka_resp_err_t {
        let headers = makeHeaders(record.headers)
        let err = withOptionalBytes(record.key) { key, keySize in
            withOptionalBytes(record.value) { value, valueSize in
                kafka_once_produce(
                    client.handle,
                    record.topic,
                    record.partition ?? Int32(RD_KAFKA_PARTITION_UA),
                    key,
                    keySize,
                    value,
                    valueSize,
                    headers,
                    0,
                    opaque
                )
            }
        }
        // librdkafka owns the header list only when the record was accepted.
        if err != RD_KAFKA_RESP_ERR_NO_ERROR, let headers { rd_kafka_headers_destroy(headers) }
        return err
    }

    private func makeHeaders(_ headers: [KafkaHeader]) -> OpaquePointer? {
        guard !headers.isEmpty else { return nil }
        let list = rd_kafka_headers_new(headers.count)!
        for header in headers {
            withOptionalBytes(header.value) { value, size in
                _ = rd_kafka_header_add(list, header.name, -1, value, size)
            }
        }
        return list
    }

    /// Waits until every enqueued record is delivered or failed.
    public func flush(timeout: Duration = .seconds(30)) async throws {
        let client = self.client
        let err = await Task.detached { rd_kafka_flush(client.handle, Int32(timeout.milliseconds)) }.value
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR else {
            throw KafkaError.rdKafka(err, "records were still undelivered after \(timeout)")
        }
    }

    /// Delivers what is queued (up to `timeout`) and stops serving delivery reports.
    public func close(timeout: Duration = .seconds(30)) async throws {
        defer {
            isClosed.withLock { $0 = true }
            pollThread.stop()
        }
        try await pollThread.run { [client] in
            let err = rd_kafka_flush(client.handle, Int32(timeout.milliseconds))
            guard err == RD_KAFKA_RESP_ERR_NO_ERROR else {
                throw KafkaError.rdKafka(err, "records were still undelivered after \(timeout)")
            }
        }
    }

    private func ensureOpen() throws {
        if isClosed.withLock({ $0 }) {
            throw KafkaError(code: .closed, message: "cannot produce: the producer is closed")
        }
    }
}

// MARK: - Logs

/// What the producer's log callback reaches through librdkafka's opaque pointer.
private final class ProducerContext: Sendable {
    let logger: KafkaOnceLogger

    init(logger: KafkaOnceLogger) {
        self.logger = logger
    }
}

/// Runs on librdkafka's threads; hands the line to the producer's logger, at most at `info`,
/// instead of librdkafka's default of printing to standard error.
private let producerLogCallback:
    @convention(c) (OpaquePointer?, Int32, UnsafePointer<CChar>?, UnsafePointer<CChar>?) -> Void = {
        handle,
        level,
        facility,
        message in
        guard let handle, let opaque = rd_kafka_opaque(handle) else { return }
        let context = Unmanaged<ProducerContext>.fromOpaque(opaque).takeUnretainedValue()
        context.logger.log(
            level <= 4 ? .info : .debug,
            message.map { String(cString: $0) } ?? "",
            metadata: ["rdkafka.facility": facility.map { String(cString: $0) } ?? ""]
        )
    }

// MARK: - Delivery reports

/// Collects the delivery reports of one `send` call and resumes it after the last one.
private final class DeliveryBatch: @unchecked Sendable {
    private struct State {
        var results: [Result<KafkaTopicPartitionOffset, KafkaError>?]
        var remaining: Int
        var continuation: CheckedContinuation<[Result<KafkaTopicPartitionOffset, KafkaError>], Never>?
    }

    private let state: Mutex<State>

    init(count: Int) {
        state = Mutex(State(results: Array(repeating: nil, count: count), remaining: count))
    }

    func setContinuation(_ continuation: CheckedContinuation<[Result<KafkaTopicPartitionOffset, KafkaError>], Never>) {
        state.withLock { $0.continuation = continuation }
    }

    func deliver(index: Int, _ result: Result<KafkaTopicPartitionOffset, KafkaError>) {
        typealias Finished = (
            CheckedContinuation<[Result<KafkaTopicPartitionOffset, KafkaError>], Never>,
            [Result<KafkaTopicPartitionOffset, KafkaError>]
        )
        let finished: Finished? = state.withLock { state in
            guard state.results[index] == nil else { return nil }
            state.results[index] = result
            state.remaining -= 1
            guard state.remaining == 0, let continuation = state.continuation else { return nil }
            state.continuation = nil
            return (continuation, state.results.map { $0! })
        }
        guard let (continuation, results) = finished else { return }
        continuation.resume(returning: results)
    }
}

/// One record's place in its batch; retained by librdkafka as the record's opaque pointer.
private final class DeliveryTicket {
    let batch: DeliveryBatch
    let index: Int

    init(batch: DeliveryBatch, index: Int) {
        self.batch = batch
        self.index = index
    }
}

/// Runs on the producer's poll thread, once per record, when the broker has answered for it.
private let deliveryReportCallback:
    @convention(c) (OpaquePointer?, UnsafePointer<rd_kafka_message_t>?, UnsafeMutableRawPointer?) -> Void = {
        _,
        message,
        _ in
        guard let message, let opaque = message.pointee._private else { return }
        let ticket = Unmanaged<DeliveryTicket>.fromOpaque(opaque).takeRetainedValue()
        let topic = message.pointee.rkt.map { String(cString: rd_kafka_topic_name($0)) } ?? ""

        if message.pointee.err == RD_KAFKA_RESP_ERR_NO_ERROR {
            let position = KafkaTopicPartitionOffset(
                topic: topic,
                partition: message.pointee.partition,
                offset: message.pointee.offset
            )
            ticket.batch.deliver(index: ticket.index, .success(position))
        } else {
            ticket.batch.deliver(
                index: ticket.index,
                .failure(KafkaError.rdKafka(message.pointee.err, "delivery to '\(topic)' failed"))
            )
        }
    }

/// Calls `body` with a pointer and size for optional bytes: `nil` stays `nil`, empty stays empty.
func withOptionalBytes<Result>(
    _ bytes: [UInt8]?,
    _ body: (UnsafeRawPointer?, Int) -> Result
) -> Result {
    guard let bytes else { return body(nil, 0) }
    return bytes.withUnsafeBytes { buffer in
        // An empty array may have no address; a one-byte stand-in keeps "empty" distinct from "null".
        if buffer.isEmpty {
            return withUnsafePointer(to: UInt8(0)) { body(UnsafeRawPointer($0), 0) }
        }
        return body(buffer.baseAddress, buffer.count)
    }
}
