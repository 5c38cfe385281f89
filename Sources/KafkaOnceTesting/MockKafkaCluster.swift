import CKafkaOnceShim
import CRDKafka
import KafkaOnce
import Synchronization

/// The embedded broker: librdkafka's mock cluster, speaking the Kafka protocol over TCP on
/// loopback, with fault injection.
///
/// Any Kafka client can connect to ``bootstrapServers``: the library's own consumers and
/// producers, `kcat`, or another process. The cluster lives until ``shutdown()`` or until the
/// value is released.
///
/// - Important: Each mock partition keeps only about 5 MB of records; older records are dropped
///   as if by retention. Size tests for that (more partitions, or consume while producing).
///   The mock does not check that a committing member owns the partition it commits, so a
///   zombie's commit is accepted; fencing must come from the deduplication store.
///
/// ```swift
/// let cluster = try MockKafkaCluster(brokers: 3)
/// try cluster.createTopic("orders", partitions: 4)
/// cluster.injectErrors(.offsetCommit, [.rebalanceInProgress])
/// ```
public final class MockKafkaCluster: @unchecked Sendable {
    // `@unchecked`: the two handles are immutable, librdkafka's mock calls are thread-safe, and
    // `isShutDown` makes destruction happen once.
    // The mock cluster is bound to the client that created it, which must outlive it.
    private let owner: OpaquePointer
    private let cluster: OpaquePointer
    private let isShutDown = Mutex(false)

    /// The `bootstrap.servers` value that reaches the cluster.
    public let bootstrapServers: String
    /// How many brokers the cluster has; their ids are 1 through this number.
    public let brokerCount: Int

    /// Starts a cluster of `brokers` brokers on loopback ports chosen by the system.
    public init(brokers: Int = 1) throws {
        let configuration = rd_kafka_conf_new()!
        var message = [CChar](repeating: 0, count: 512)
        // Silence the owner's own attempts to reach a real broker.
        rd_kafka_conf_set(configuration, "log_level", "0", &message, message.count)
        guard let owner = rd_kafka_new(RD_KAFKA_PRODUCER, configuration, &message, message.count) else {
            rd_kafka_conf_destroy(configuration)
            throw MockClusterError("cannot create the client that hosts the mock cluster")
        }
        guard let cluster = rd_kafka_mock_cluster_new(owner, Int32(brokers)) else {
            rd_kafka_destroy(owner)
            throw MockClusterError("cannot start a mock cluster of \(brokers) brokers")
        }
        self.owner = owner
        self.cluster = cluster
        self.brokerCount = brokers
        self.bootstrapServers = String(cString: rd_kafka_mock_cluster_bootstraps(cluster))
    }

    deinit {
        shutdown()
    }

    /// Stops the brokers and closes their ports. Further calls are ignored.
    public func shutdown() {
        let wasShutDown = isShutDown.withLock { state in
            defer { state = true }
            return state
        }
        guard !wasShutDown else { return }
        rd_kafka_mock_cluster_destroy(cluster)
        rd_kafka_destroy(owner)
    }

    // MARK: - Topics

    /// Creates a topic.
    public func createTopic(_ name: String, partitions: Int, replicationFactor: Int = 1) throws {
        let err = rd_kafka_mock_topic_create(cluster, name, Int32(partitions), Int32(replicationFactor))
        try check(err, "cannot create topic '\(name)' with \(partitions) partitions")
    }

    /// Makes `broker` the leader of a partition, as after a leader election.
    public func setPartitionLeader(topic: String, partition: Int32, broker: Int32) throws {
        try check(
            rd_kafka_mock_partition_set_leader(cluster, topic, partition, broker),
            "cannot move the leader of \(topic)[\(partition)] to broker \(broker)"
        )
    }

    /// Makes `broker` the coordinator of a consumer group.
    public func setGroupCoordinator(group: String, broker: Int32) throws {
        try check(
            rd_kafka_mock_coordinator_set(cluster, "group", group, broker),
            "cannot move the coordinator of group '\(group)' to broker \(broker)"
        )
    }

    // MARK: - Brokers

    /// Takes a broker down: its connections close and new ones are refused. `nil` means every broker.
    public func setBrokerDown(_ broker: Int32? = nil) throws {
        try check(rd_kafka_mock_broker_set_down(cluster, broker ?? -1), "cannot take broker \(broker ?? -1) down")
    }

    /// Brings a broker back up. `nil` means every broker.
    public func setBrokerUp(_ broker: Int32? = nil) throws {
        try check(rd_kafka_mock_broker_set_up(cluster, broker ?? -1), "cannot bring broker \(broker ?? -1) up")
    }

    /// Delays every response of a broker by `roundTripTime`. `nil` means every broker.
    public func setRoundTripTime(_ roundTripTime: Duration, broker: Int32? = nil) throws {
        try check(
            rd_kafka_mock_broker_set_rtt(cluster, broker ?? -1, roundTripTime.wholeMilliseconds),
            "cannot set the round-trip time"
        )
    }

    // MARK: - Errors

    /// Makes the next `errors.count` requests of type `api`, on any broker, fail with these errors
    /// in order. An injected error means the request was not applied.
    public func injectErrors(_ api: KafkaAPI, _ errors: [KafkaMockError]) {
        let codes = errors.map { rd_kafka_resp_err_t($0.rawValue) }
        rd_kafka_mock_push_request_errors_array(cluster, api.rawValue, codes.count, codes)
    }

    /// Makes the next requests of type `api` to one broker answer with these errors after these
    /// delays. A delay longer than the client's `socket.timeout.ms` makes the client see a timeout
    /// for a request the broker may still apply, as when a commit succeeds but its answer is lost.
    public func injectErrors(_ api: KafkaAPI, broker: Int32, _ entries: [(KafkaMockError, Duration)]) throws {
        let codes = entries.map { rd_kafka_resp_err_t($0.0.rawValue) }
        let delays = entries.map { $0.1.wholeMilliseconds }
        try check(
            kafka_once_mock_push_error_rtts(cluster, broker, api.rawValue, entries.count, codes, delays),
            "cannot inject errors on broker \(broker)"
        )
    }

    /// Drops every error still queued for `api`.
    public func clearErrors(_ api: KafkaAPI) {
        rd_kafka_mock_clear_request_errors(cluster, api.rawValue)
    }

    private func check(_ err: rd_kafka_resp_err_t, _ what: String) throws {
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR else {
            throw MockClusterError("\(what): \(String(cString: rd_kafka_err2str(err)))")
        }
    }
}

/// A Kafka protocol request type, by its API key.
public struct KafkaAPI: Sendable, Hashable {
    /// The API key, as the Kafka protocol numbers request types.
    public let rawValue: Int16

    /// A request type by its API key, for one without a constant here.
    public init(rawValue: Int16) { self.rawValue = rawValue }

    /// `Produce` (0): writes records.
    public static let produce = KafkaAPI(rawValue: 0)
    /// `Fetch` (1): reads records.
    public static let fetch = KafkaAPI(rawValue: 1)
    /// `ListOffsets` (2): looks up offsets by time, and the watermarks.
    public static let listOffsets = KafkaAPI(rawValue: 2)
    /// `Metadata` (3): brokers, topics, partitions and their leaders.
    public static let metadata = KafkaAPI(rawValue: 3)
    /// `OffsetCommit` (8): commits a group's offsets.
    public static let offsetCommit = KafkaAPI(rawValue: 8)
    /// `OffsetFetch` (9): reads a group's committed offsets.
    public static let offsetFetch = KafkaAPI(rawValue: 9)
    /// `FindCoordinator` (10): finds the broker that coordinates a group.
    public static let findCoordinator = KafkaAPI(rawValue: 10)
    /// `JoinGroup` (11): joins a group, or rejoins it in a rebalance.
    public static let joinGroup = KafkaAPI(rawValue: 11)
    /// `Heartbeat` (12): keeps a member in its group.
    public static let heartbeat = KafkaAPI(rawValue: 12)
    /// `LeaveGroup` (13): leaves a group.
    public static let leaveGroup = KafkaAPI(rawValue: 13)
    /// `SyncGroup` (14): hands out the assignment after a join.
    public static let syncGroup = KafkaAPI(rawValue: 14)
}

/// An error the mock broker can answer with.
public struct KafkaMockError: Sendable, Hashable {
    /// librdkafka's error code (`rd_kafka_resp_err_t`).
    public let rawValue: Int32

    /// An error by its librdkafka code, for one without a constant here.
    public init(rawValue: Int32) { self.rawValue = rawValue }

    /// No error: the request succeeds. With a delay, it only slows the answer down.
    public static let none = KafkaMockError(rawValue: RD_KAFKA_RESP_ERR_NO_ERROR.rawValue)
    /// Closes the client's connection instead of answering.
    public static let transport = KafkaMockError(rawValue: RD_KAFKA_RESP_ERR__TRANSPORT.rawValue)
    /// `REBALANCE_IN_PROGRESS`: the group is rebalancing; the member must rejoin.
    public static let rebalanceInProgress = KafkaMockError(rawValue: RD_KAFKA_RESP_ERR_REBALANCE_IN_PROGRESS.rawValue)
    /// `ILLEGAL_GENERATION`: the member's generation is stale; it must rejoin, and its commit is
    /// refused.
    public static let illegalGeneration = KafkaMockError(rawValue: RD_KAFKA_RESP_ERR_ILLEGAL_GENERATION.rawValue)
    /// `UNKNOWN_MEMBER_ID`: the coordinator no longer knows the member, as after a session timeout.
    public static let unknownMemberID = KafkaMockError(rawValue: RD_KAFKA_RESP_ERR_UNKNOWN_MEMBER_ID.rawValue)
    /// `NOT_COORDINATOR`: the broker does not coordinate the group; the client looks it up again.
    public static let notCoordinator = KafkaMockError(rawValue: RD_KAFKA_RESP_ERR_NOT_COORDINATOR.rawValue)
    /// `NOT_LEADER_FOR_PARTITION`: the broker does not lead the partition; the client refreshes
    /// its metadata.
    public static let notLeaderForPartition = KafkaMockError(
        rawValue: RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION.rawValue
    )
    /// `REQUEST_TIMED_OUT`: the broker gave up on the request.
    public static let requestTimedOut = KafkaMockError(rawValue: RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT.rawValue)
}

/// A mock cluster call that failed.
public struct MockClusterError: Error, CustomStringConvertible {
    /// What failed, with librdkafka's explanation.
    public let description: String

    init(_ description: String) { self.description = description }
}

extension Duration {
    /// Whole milliseconds, clamped to what librdkafka's `int` parameters hold.
    var wholeMilliseconds: Int32 {
        Int32(clamping: components.seconds * 1000 + components.attoseconds / 1_000_000_000_000_000)
    }
}
