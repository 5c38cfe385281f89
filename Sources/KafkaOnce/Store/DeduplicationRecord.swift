import struct Foundation.Date

/// What a store knows about one idempotency key.
public struct DeduplicationRecord: Sendable, Hashable {
    /// The state of a key.
    public enum State: String, Sendable, Hashable, CaseIterable {
        /// A consumer claimed the key and may be running its handler. If that consumer died, the
        /// effect may or may not have happened ("maybe applied").
        case inProgress = "in_progress"
        /// The handler finished; redeliveries are skipped.
        case completed
        /// Every attempt failed and the message was dead-lettered; redeliveries are skipped.
        case failed
    }

    /// The namespaced key, `namespace/strategy:value`.
    public var key: String
    /// A fingerprint of the payload of the message that first claimed the key.
    public var fingerprint: MessageFingerprint
    /// Whether the key is in progress, completed or failed.
    public var state: State
    /// The consumer instance that claimed or finished the key.
    public var owner: String
    /// The partition epoch under which the owner held the partition.
    public var epoch: Int64
    /// The message that holds the key's claim or last recorded its outcome. Its partition is the
    /// one whose epoch ``epoch`` belongs to.
    public var origin: KafkaTopicPartitionOffset
    /// Until when an in-progress claim is held; after it, another partition's owner may take it over.
    public var leaseExpiry: Date?
    /// What the handler chose to store for later duplicates to see, if anything.
    public var result: [UInt8]?
    /// Why the message failed, for ``State/failed``.
    public var failureReason: String?
    /// How many times the handler ran for this key.
    public var attempts: Int
    /// When the key was first claimed or recorded, by the store's clock.
    public var createdAt: Date
    /// When the record last changed, by the store's clock. Purging compares its cutoff with this
    /// (``DeduplicationStore/purge(updatedBefore:batchSize:)``).
    public var updatedAt: Date

    /// Creates a record with every field given; stores build records from their rows this way.
    public init(
        key: String,
        fingerprint: MessageFingerprint,
        state: State,
        owner: String,
        epoch: Int64,
        origin: KafkaTopicPartitionOffset,
        leaseExpiry: Date? = nil,
        result: [UInt8]? = nil,
        failureReason: String? = nil,
        attempts: Int = 0,
        createdAt: Date,
        updatedAt: Date
    ) {
        self.key = key
        self.fingerprint = fingerprint
        self.state = state
        self.owner = owner
        self.epoch = epoch
        self.origin = origin
        self.leaseExpiry = leaseExpiry
        self.result = result
        self.failureReason = failureReason
        self.attempts = attempts
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

/// A request to claim a key before running the handler for a message.
public struct ClaimRequest: Sendable, Hashable {
    /// The namespaced idempotency key to claim.
    public var key: String
    /// A fingerprint of the message's payload, to tell a duplicate from a conflict.
    public var fingerprint: MessageFingerprint
    /// The message's position, which becomes the record's ``DeduplicationRecord/origin``.
    public var origin: KafkaTopicPartitionOffset

    /// Creates a claim request for one message.
    public init(key: String, fingerprint: MessageFingerprint, origin: KafkaTopicPartitionOffset) {
        self.key = key
        self.fingerprint = fingerprint
        self.origin = origin
    }
}

/// What a claim found, and so what the runtime does with the message.
public enum ClaimOutcome: Sendable, Hashable {
    /// The key was new (or is this owner's own claim): run the handler.
    case acquired
    /// The key was in progress under an owner that lost its partition or let its lease expire.
    /// The claim now belongs to the caller; the effect may already have happened once.
    case abandoned(DeduplicationRecord)
    /// The key was completed with the same fingerprint: a duplicate, skip it.
    case completed(DeduplicationRecord)
    /// The key was dead-lettered before: skip it.
    case failed(DeduplicationRecord)
    /// The key exists with a different fingerprint: not a duplicate but a conflict.
    case conflict(DeduplicationRecord)
    /// Another live owner (another partition) holds the key: try again later.
    case busy(DeduplicationRecord)
}

/// The outcome of a handled message, to record.
public struct RecordedOutcome: Sendable, Hashable {
    /// What happened.
    public enum Kind: Sendable, Hashable {
        /// The handler succeeded, optionally storing a result for duplicates to see.
        case completed(result: [UInt8]?)
        /// Every attempt failed and the message was dead-lettered.
        case failed(reason: String)
    }

    /// The namespaced idempotency key the outcome belongs to.
    public var key: String
    /// A fingerprint of the message's payload.
    public var fingerprint: MessageFingerprint
    /// The position of the message that was handled.
    public var origin: KafkaTopicPartitionOffset
    /// Whether the message completed or failed, with its result or reason.
    public var kind: Kind
    /// How many times the handler ran for the message; 0 when the outcome was decided without
    /// running it.
    public var attempts: Int

    /// Creates an outcome to record.
    public init(
        key: String,
        fingerprint: MessageFingerprint,
        origin: KafkaTopicPartitionOffset,
        kind: Kind,
        attempts: Int
    ) {
        self.key = key
        self.fingerprint = fingerprint
        self.origin = origin
        self.kind = kind
        self.attempts = attempts
    }
}

/// Proof that a consumer instance owns a partition: its identity and the partition's epoch.
///
/// Every assignment of a partition increases its epoch in the store (``DeduplicationStore/acquire(_:owner:)``).
/// A claim or a record made with an older epoch is refused with ``DeduplicationStoreError/Code/fenced``,
/// so a consumer that lost its partitions (a zombie) cannot record a second outcome.
public struct PartitionFence: Sendable, Hashable, CustomStringConvertible {
    /// The partition the fence guards.
    public var partition: KafkaTopicPartition
    /// The identity of the consumer instance that acquired the partition.
    public var owner: String
    /// The epoch ``DeduplicationStore/acquire(_:owner:)`` returned for the partition; 1 for the
    /// first acquire, one more for each later one.
    public var epoch: Int64

    /// Creates a fence from an epoch that ``DeduplicationStore/acquire(_:owner:)`` returned.
    public init(partition: KafkaTopicPartition, owner: String, epoch: Int64) {
        self.partition = partition
        self.owner = owner
        self.epoch = epoch
    }

    /// `topic[partition] owner=OWNER epoch=EPOCH`, for logs and error messages.
    public var description: String { "\(partition) owner=\(owner) epoch=\(epoch)" }
}

/// Counts of a store's records.
public struct DeduplicationStoreStatistics: Sendable, Hashable {
    /// Records of keys claimed and not yet finished.
    public var inProgress: Int
    /// Records of keys whose handler succeeded.
    public var completed: Int
    /// Records of keys that failed on every attempt.
    public var failed: Int
    /// When the oldest record was last updated, if there is any record.
    public var oldestUpdate: Date?
    /// When the newest record was last updated, if there is any record.
    public var newestUpdate: Date?

    /// Creates statistics from a store's counts.
    public init(inProgress: Int, completed: Int, failed: Int, oldestUpdate: Date?, newestUpdate: Date?) {
        self.inProgress = inProgress
        self.completed = completed
        self.failed = failed
        self.oldestUpdate = oldestUpdate
        self.newestUpdate = newestUpdate
    }

    /// Every record, whatever its state.
    public var total: Int { inProgress + completed + failed }
}
