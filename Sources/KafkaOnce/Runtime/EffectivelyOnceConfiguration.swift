import Foundation

/// Everything an ``EffectivelyOnceConsumer`` needs besides its store and handler.
///
/// Every option has a safe default: nothing is skipped silently, nothing is committed before it is
/// recorded, and a message that keeps failing stops the consumer unless a dead-letter topic is named.
///
/// ```swift
/// var configuration = EffectivelyOnceConfiguration(
///     bootstrapServers: "localhost:9092",
///     groupID: "payments",
///     topics: ["orders"]
/// )
/// configuration.keys = KeyDerivation([.header("idempotency-key"), .recordKey])
/// configuration.failurePolicy = .deadLetter(topic: "orders.dead-letter")
/// ```
public struct EffectivelyOnceConfiguration: Sendable {
    /// The Kafka consumer's settings (brokers, group, timeouts, raw properties).
    public var consumer: KafkaConsumerConfiguration
    /// The topics to subscribe to, as a member of ``KafkaConsumerConfiguration/groupID``.
    public var topics: [String]
    /// Read these partitions directly instead of subscribing, from their committed offsets
    /// (or the reset policy). No rebalances happen; used when one process owns a fixed set.
    public var partitions: [KafkaTopicPartition]?
    /// How idempotency keys are derived. Default: the `idempotency-key` header, then `message-id`,
    /// then CloudEvents headers, then the coordinates.
    public var keys = KeyDerivation()
    /// How many times a failing handler runs, and how long to wait between attempts.
    public var retry = RetryPolicy()
    /// What happens to a message whose last attempt failed. Default: ``FailurePolicy/stop``.
    public var failurePolicy: FailurePolicy = .stop
    /// What happens when a key arrives again with a different payload. Default: the failure policy.
    public var conflictPolicy: ConflictPolicy = .failurePolicy
    /// What happens to a claim left in progress by an owner that died or lost its partition.
    public var abandonedClaimPolicy: AbandonedClaimPolicy = .reprocess
    /// How outcomes of plain handlers are made durable. Default: ``OutcomeBatching/perMessage``.
    public var outcomeBatching: OutcomeBatching = .perMessage
    /// The most messages taken from one poll.
    public var maxPollBatch = 1000
    /// The most messages polled and not yet done, across partitions. Default: 10,000.
    ///
    /// At this many the poll loop stops taking records from librdkafka until the partitions have
    /// worked the buffers down to half, which keeps librdkafka's prefetched records where they are.
    /// librdkafka's own prefetch (`queued.min.messages`, `queued.max.messages.kbytes`) comes on top.
    public var maxBufferedMessages = 10_000
    /// The most messages waiting in one partition while the consumer as a whole is held back by
    /// ``maxBufferedMessages`` for longer than half a second (a handler or store slower than that
    /// to work half the buffers down): past it the partition is paused until it drains to half, so
    /// the other partitions keep being read. Default: 1000.
    public var maxBufferedPerPartition = 1000
    /// How often processed offsets are committed asynchronously.
    public var commitInterval: Duration = .seconds(1)
    /// How long an in-progress claim is held before an owner of another partition may take it over.
    ///
    /// A batch's claims are renewed once they are half a lease old, so a message starts with at
    /// least half a lease left: keep this above twice the slowest handler run, retries and backoff
    /// included. Default: 120 s.
    public var leaseDuration: Duration = .seconds(120)
    /// How long a revocation or shutdown waits for in-flight messages before abandoning them.
    public var drainTimeout: Duration = .seconds(10)
    /// How long transient store failures are retried before the consumer stops.
    public var storeRetryLimit: Duration = .seconds(30)
    /// Whether ``EffectivelyOnceConsumer/run()`` stops gracefully on SIGINT and SIGTERM.
    public var handlesSignals = true
    /// Settings of the producer used for dead letters; brokers default to the consumer's.
    public var deadLetterProducerProperties: [String: String] = [:]

    /// Creates a configuration for a consumer group reading `topics`.
    ///
    /// The consumer's ``KafkaConsumerConfiguration/properties`` start with
    /// `queued.min.messages` at ``defaultPrefetchedMessages`` instead of librdkafka's 100,000: the
    /// runtime holds up to ``maxBufferedMessages`` polled records of its own, so a shallower
    /// prefetch keeps memory low (about 30 MB less with small records) without slowing the
    /// consumer. Set the property again, or replace `properties`, to choose otherwise.
    public init(bootstrapServers: String, groupID: String, topics: [String]) {
        self.consumer = KafkaConsumerConfiguration(bootstrapServers: bootstrapServers, groupID: groupID)
        self.consumer.properties["queued.min.messages"] = String(Self.defaultPrefetchedMessages)
        self.topics = topics
    }

    /// The `queued.min.messages` a new configuration gives librdkafka: 30,000 records.
    public static let defaultPrefetchedMessages = 30_000

    /// The namespace of keys: ``KeyDerivation/namespace`` or the group id.
    var keyNamespace: String { keys.namespace ?? consumer.groupID }

    /// The idempotency key a consumer with this configuration derives for `message`: the one it
    /// records in the store and passes as ``MessageContext/idempotencyKey``.
    ///
    /// Use it outside a consumer to look a message up in the store, as
    /// `store.record(for: configuration.idempotencyKey(for: message))`, or to forget it before a
    /// deliberate reprocessing.
    public func idempotencyKey(for message: KafkaMessage) -> String {
        keys.key(for: message, namespace: keyNamespace).key
    }
}

/// Retries of a failing handler: exponential backoff with jitter. While a message waits, its
/// partition is paused and the consumer keeps polling, so it stays in the group.
public struct RetryPolicy: Sendable {
    /// How many times the handler runs at most, the first included. At least one.
    public var maxAttempts = 3
    /// The wait before the second attempt.
    public var initialBackoff: Duration = .milliseconds(100)
    /// The longest wait between attempts.
    public var maxBackoff: Duration = .seconds(10)
    /// How much the wait grows per attempt.
    public var multiplier = 2.0
    /// The fraction of each wait drawn at random, so consumers that failed together do not retry together.
    public var jitter = 0.2

    /// Creates a policy; the multiplier (2) and jitter (0.2) keep their defaults.
    public init(
        maxAttempts: Int = 3,
        initialBackoff: Duration = .milliseconds(100),
        maxBackoff: Duration = .seconds(10)
    ) {
        self.maxAttempts = maxAttempts
        self.initialBackoff = initialBackoff
        self.maxBackoff = maxBackoff
    }

    /// The wait after attempt number `attempt` (1 for the first) failed.
    public func backoff(after attempt: Int) -> Duration {
        let base = initialBackoff.seconds * pow(multiplier, Double(max(0, attempt - 1)))
        let capped = min(base, maxBackoff.seconds)
        let spread = capped * jitter
        return .seconds(max(0, capped - spread + Double.random(in: 0...1) * 2 * spread))
    }
}

/// What happens to a message whose handler failed on every attempt.
public enum FailurePolicy: Sendable, Hashable {
    /// Stop the consumer with the handler's error. Nothing after the message is committed, so it
    /// is retried after a restart. The safe default when no dead-letter topic exists.
    case stop
    /// Produce the message to `topic` with headers naming its origin, error, attempts and key,
    /// record the key as failed, and move on.
    case deadLetter(topic: String)
    /// Record the key as failed and move on, logging at `error`. The message is not kept anywhere.
    case skip
}

/// What happens when a key is seen again with a different payload.
public enum ConflictPolicy: Sendable, Hashable {
    /// Treat the conflicting message like a failed one (see ``FailurePolicy``). Never a silent skip.
    case failurePolicy
    /// Skip it, counting and logging it at `warning`.
    case skip
    /// Stop the consumer with an error naming the key.
    case stop
}

/// What happens to a key left in progress by an owner that died or lost its partition.
///
/// Such a key is "maybe applied": the handler may have run to completion before the owner died,
/// without its outcome being recorded. Only a transactional handler, or an effect keyed downstream
/// by ``MessageContext/idempotencyKey``, removes the doubt.
public enum AbandonedClaimPolicy: Sendable {
    /// Run the handler again: at-least-once for this one message. Right when the effect is keyed
    /// downstream by the idempotency key. The default.
    case reprocess
    /// Record the key as completed without running the handler: at-most-once for this message.
    ///
    /// - Warning: Keys are claimed a poll batch at a time, so a consumer that crashed also leaves
    ///   claims for messages of its last batch whose handler never started. This policy skips
    ///   those too. Use it only where losing such a message is acceptable. A partition revoked,
    ///   or a consumer stopping, in the middle of a batch releases those claims instead
    ///   (``DeduplicationStore/release(_:fence:)``), unless the store refuses the release.
    case skip
    /// Ask: `true` runs the handler again, `false` records the key as completed.
    case decide(@Sendable (KafkaMessage, DeduplicationRecord) async -> Bool)
}

/// How outcomes of plain (non-transactional) handlers are made durable.
public enum OutcomeBatching: Sendable, Hashable {
    /// Each message's outcome is durable before the next message of its partition is handled, so
    /// a crash replays at most the one message whose effect was in flight. Partitions share
    /// commits (group commit), so the cost is one durable write per partition per message round.
    case perMessage
    /// Outcomes of up to `maxMessages` consecutive messages of a partition are recorded together.
    ///
    /// - Important: After a crash, up to `maxMessages` messages per partition whose effects
    ///   happened but were not yet recorded run again. A revocation or a stop records them before
    ///   the partition is let go; only a failure of that last write leaves them. Use it only when
    ///   effects are idempotent downstream (keyed by ``MessageContext/idempotencyKey``).
    case perBatch(maxMessages: Int)
}
