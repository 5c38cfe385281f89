/// What a consumer does when its group has no committed offset for a partition, or the committed
/// offset is no longer on the broker.
public enum KafkaAutoOffsetReset: String, Sendable {
    /// Start at the oldest record the broker still holds. The default: nothing is skipped silently.
    case earliest
    /// Start after the newest record. Records dropped by retention before the consumer reads them
    /// are then lost without a trace, so the runtime logs every such reset at `warning`.
    case latest
    /// Fail the partition with an error instead of guessing.
    case error
}

/// Which records a consumer may read from a topic written by transactional producers.
public enum KafkaIsolationLevel: String, Sendable {
    /// Only records of committed transactions (and non-transactional records).
    case readCommitted = "read_committed"
    /// Every record, including those of aborted transactions.
    case readUncommitted = "read_uncommitted"
}

/// How the group spreads partitions over its members.
public enum KafkaPartitionAssignor: String, Sendable {
    /// Eager: every rebalance revokes all partitions from all members first.
    case range
    /// Eager, round robin.
    case roundRobin = "roundrobin"
    /// Incremental: a rebalance moves only the partitions that change owner; the others keep
    /// being processed. Recommended.
    case cooperativeSticky = "cooperative-sticky"
}

/// The settings of a ``KafkaConsumer``.
///
/// The typed properties cover what users set most; anything else librdkafka understands goes in
/// ``properties`` by its librdkafka name, and wins over the typed value. A wrong name or value is
/// reported when the consumer is created, naming the property.
///
/// ```swift
/// var configuration = KafkaConsumerConfiguration(bootstrapServers: "localhost:9092", groupID: "payments")
/// configuration.sessionTimeout = .seconds(10)
/// configuration.properties["fetch.wait.max.ms"] = "50"
/// ```
public struct KafkaConsumerConfiguration: Sendable {
    /// Comma-separated `host:port` pairs of the brokers to bootstrap from.
    public var bootstrapServers: String
    /// The consumer group; also the default namespace of idempotency keys.
    public var groupID: String
    /// The client identifier shown in broker logs and metrics.
    public var clientID: String = "kafka-once"
    /// How long the group waits for a heartbeat before it removes a silent member.
    public var sessionTimeout: Duration = .seconds(45)
    /// The longest gap allowed between two polls before the member leaves the group.
    public var maxPollInterval: Duration = .seconds(300)
    /// Where to start when there is no usable committed offset. Default: ``KafkaAutoOffsetReset/earliest``.
    public var autoOffsetReset: KafkaAutoOffsetReset = .earliest
    /// Which transactional records are visible. Default: ``KafkaIsolationLevel/readCommitted``.
    public var isolationLevel: KafkaIsolationLevel = .readCommitted
    /// How partitions are assigned. Default: ``KafkaPartitionAssignor/cooperativeSticky``.
    public var assignor: KafkaPartitionAssignor = .cooperativeSticky
    /// Raw librdkafka properties, applied after the typed ones.
    public var properties: [String: String] = [:]
    /// How often, at most, a poll that emptied librdkafka's local queue wakes the fetcher with a
    /// watermark query to a partition leader. Default: 50 ms; `nil` never does.
    ///
    /// librdkafka 2.0.2 stops fetching while its local queue holds `queued.min.messages` records and
    /// looks again up to a second later (confluentinc/librdkafka#2879), so a consumer faster than
    /// that second would otherwise wait for it. The wake-up costs at most one small request per
    /// interval while the consumer works through a backlog, and none while it is idle. With
    /// librdkafka 2.1 or later, set `fetch.queue.backoff.ms` in ``properties`` instead.
    public var fetchWakeupInterval: Duration? = .milliseconds(50)

    /// Creates a configuration with the two settings every consumer needs.
    public init(bootstrapServers: String, groupID: String) {
        self.bootstrapServers = bootstrapServers
        self.groupID = groupID
    }

    /// Every property, in the order they are applied.
    ///
    /// Offsets are stored and committed by the caller only (`enable.auto.commit` and
    /// `enable.auto.offset.store` are off): committing is the point where a guarantee is made,
    /// so it never happens behind the caller's back.
    var librdkafkaProperties: [(String, String)] {
        var result: [(String, String)] = [
            ("bootstrap.servers", bootstrapServers),
            ("group.id", groupID),
            ("client.id", clientID),
            ("session.timeout.ms", String(sessionTimeout.milliseconds)),
            ("max.poll.interval.ms", String(maxPollInterval.milliseconds)),
            ("auto.offset.reset", autoOffsetReset.rawValue),
            ("isolation.level", isolationLevel.rawValue),
            ("partition.assignment.strategy", assignor.rawValue),
            ("enable.auto.commit", "false"),
            ("enable.auto.offset.store", "false"),
            ("enable.partition.eof", "false"),
        ]
        result += properties.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
        return result
    }
}

/// The settings of a ``KafkaProducer``.
public struct KafkaProducerConfiguration: Sendable {
    /// Comma-separated `host:port` pairs of the brokers to bootstrap from.
    public var bootstrapServers: String
    /// The client identifier shown in broker logs and metrics.
    public var clientID: String = "kafka-once"
    /// Whether the producer is idempotent: retries never write a record twice and order is kept.
    /// Default: `true`.
    public var isIdempotent: Bool = true
    /// How long a record may wait to be delivered, retries included, before it fails.
    public var deliveryTimeout: Duration = .seconds(30)
    /// How long records wait to be batched together before they are sent.
    public var linger: Duration = .milliseconds(5)
    /// Raw librdkafka properties, applied after the typed ones.
    public var properties: [String: String] = [:]

    /// Creates a configuration for the given brokers.
    public init(bootstrapServers: String) {
        self.bootstrapServers = bootstrapServers
    }

    var librdkafkaProperties: [(String, String)] {
        var result: [(String, String)] = [
            ("bootstrap.servers", bootstrapServers),
            ("client.id", clientID),
            ("enable.idempotence", isIdempotent ? "true" : "false"),
            ("message.timeout.ms", String(deliveryTimeout.milliseconds)),
            ("linger.ms", String(linger.milliseconds)),
        ]
        result += properties.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
        return result
    }
}
