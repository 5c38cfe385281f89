/// A change of the partitions assigned to a consumer, reported while librdkafka waits for it.
///
/// The consumer calls its rebalance hook synchronously, on the thread that polls, *before* it
/// applies the change. For a revocation this is the last moment at which the partitions are still
/// owned: stop dispatching them, finish or abandon their in-flight work, make outcomes durable and
/// commit (``KafkaConsumer/commitSynchronously(_:)``), then return. Once the hook returns, the
/// partitions are unassigned and may already be consumed by another member.
public struct KafkaRebalance: Sendable {
    /// What happens to ``partitions``.
    public enum Kind: Sendable, Hashable {
        /// The partitions are being assigned to this consumer.
        case assigned
        /// The partitions are being taken away in an orderly rebalance; committing still works.
        case revoked
        /// The partitions were lost: the member fell out of the group (a missed session timeout
        /// or poll interval). Another member may already own them, so a commit would be refused
        /// or would race it. Abandon the work instead.
        case lost
    }

    /// Whether the group moves only the changed partitions or all of them.
    public enum RebalanceProtocol: Sendable, Hashable {
        /// Every rebalance revokes the whole assignment first.
        case eager
        /// Only the partitions that change owner are revoked or assigned.
        case cooperative
    }

    /// Whether the partitions are assigned, revoked or lost.
    public var kind: Kind
    /// The partitions that change; with the eager protocol, the whole assignment.
    public var partitions: [KafkaTopicPartition]
    /// The group's rebalance protocol, which decides what ``partitions`` holds.
    public var `protocol`: RebalanceProtocol
}

/// The outcome of an offset commit, as the broker reported it.
public struct KafkaCommitResult: Sendable {
    /// The offsets that were sent, each with its own outcome.
    public var offsets: [KafkaTopicPartitionOffset]
    /// `nil` when every offset was committed; otherwise the first error.
    public var error: KafkaError?
}

/// Callbacks a consumer makes while it polls.
///
/// Each runs synchronously on the thread inside ``KafkaConsumer/poll(maxMessages:timeout:)``:
/// keep them short, and never poll from inside one.
public struct KafkaConsumerEvents: Sendable {
    /// Called before partitions are assigned, revoked or lost. See ``KafkaRebalance``.
    public var rebalance: (@Sendable (KafkaRebalance, KafkaConsumer) -> Void)?
    /// Called with the outcome of every commit, synchronous or asynchronous.
    public var commit: (@Sendable (KafkaCommitResult) -> Void)?
    /// Called for client-level errors that are not tied to a call: all brokers down, an
    /// authentication failure, an offset reset because the committed offset is gone.
    public var error: (@Sendable (KafkaError) -> Void)?

    /// Creates a set of callbacks; a callback left `nil` is not made.
    public init(
        rebalance: (@Sendable (KafkaRebalance, KafkaConsumer) -> Void)? = nil,
        commit: (@Sendable (KafkaCommitResult) -> Void)? = nil,
        error: (@Sendable (KafkaError) -> Void)? = nil
    ) {
        self.rebalance = rebalance
        self.commit = commit
        self.error = error
    }
}
