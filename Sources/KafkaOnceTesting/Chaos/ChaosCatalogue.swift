import KafkaOnce

extension ChaosScenario {
    /// Every scenario of the catalogue, in the order `kafka-once chaos` runs them.
    public static let all: [ChaosScenario] = [
        duplicateProduce, commitRejected, commitTimedOut, crashBeforeCommit, heartbeatFailure, coordinatorMove,
        memberChurn, slowHandler, leaderMove, clusterDown, latency, storeOutage, savepointsRefused, poisonMessages,
        zombie, killed,
    ]

    /// Looks a scenario up by name.
    public static func named(_ name: String) -> ChaosScenario? {
        all.first { $0.name == name }
    }

    /// A third of the ids produced twice, at different offsets and often to different partitions.
    public static let duplicateProduce = ChaosScenario(
        name: "duplicate-produce",
        summary: "the producer sends a third of the ids twice",
        duplicateShare: 0.33,
        faults: []
    )

    /// The coordinator refuses commits with every error a rebalance or a move can cause.
    public static let commitRejected = ChaosScenario(
        name: "commit-rejected",
        summary:
            "OffsetCommit refused: REBALANCE_IN_PROGRESS, ILLEGAL_GENERATION, UNKNOWN_MEMBER_ID, "
            + "NOT_COORDINATOR, transport",
        faults: [0.2, 0.45, 0.7].map { progress in
            ChaosFault("commit-rejected", at: progress) { run in
                run.cluster.injectErrors(
                    .offsetCommit,
                    [.rebalanceInProgress, .illegalGeneration, .unknownMemberID, .notCoordinator, .transport]
                )
            }
        }
    )

    /// Commits applied by the broker but answered after the client gave up.
    public static let commitTimedOut = ChaosScenario(
        name: "commit-timeout",
        summary: "OffsetCommit answered after 6 s with socket.timeout.ms=3000: applied, reported as timed out",
        consumerProperties: ["socket.timeout.ms": "3000"],
        faults: [
            ChaosFault("commit-answer-delayed", at: 0.3) { run in
                try run.cluster.setGroupCoordinator(group: run.group, broker: 1)
                try run.cluster.injectErrors(.offsetCommit, broker: 1, Array(repeating: (.none, .seconds(6)), count: 3))
            }
        ]
    )

    /// The consumer dies after recording and before committing, twice; a new one takes over.
    public static let crashBeforeCommit = ChaosScenario(
        name: "crash-before-commit",
        summary: "the consumer stops dead after recording, before committing, and is restarted",
        faults: [0.3, 0.6].map { progress in
            ChaosFault("consumer-crashed", at: progress) { run in
                try await run.crashAndRestart()
            }
        }
    )

    /// Heartbeats fail: the member is told to rejoin and its assignment may be lost.
    public static let heartbeatFailure = ChaosScenario(
        name: "heartbeat-failure",
        summary: "Heartbeat answered ILLEGAL_GENERATION and NOT_COORDINATOR: rebalance, assignment lost",
        usesGroup: true,
        faults: [
            ChaosFault("heartbeat-refused", at: 0.3) { run in
                run.cluster.injectErrors(.heartbeat, [.illegalGeneration, .notCoordinator, .illegalGeneration])
            }
        ]
    )

    /// The group coordinator moves to another broker, and the old one goes down for a while.
    public static let coordinatorMove = ChaosScenario(
        name: "coordinator-move",
        summary: "the group coordinator moves, then its old broker goes down and comes back",
        usesGroup: true,
        faults: [
            ChaosFault(
                "coordinator-moved-and-broker-down",
                at: 0.3,
                healAfter: .seconds(2),
                inject: { run in
                    try run.cluster.setGroupCoordinator(group: run.group, broker: 2)
                    try run.cluster.setBrokerDown(3)
                },
                heal: { run in try run.cluster.setBrokerUp(3) }
            )
        ]
    )

    /// Members join and leave while the stream flows.
    public static let memberChurn = ChaosScenario(
        name: "member-churn",
        summary: "two members join mid-stream and the first leaves",
        usesGroup: true,
        faults: [
            ChaosFault("member-joined", at: 0.2) { run in try await run.startConsumer() },
            ChaosFault("member-joined", at: 0.4) { run in try await run.startConsumer() },
            ChaosFault("member-left", at: 0.6) { run in await run.stopFirstConsumer() },
        ]
    )

    /// One handler call outlasts max.poll.interval.ms: the member is removed from the group.
    public static let slowHandler = ChaosScenario(
        name: "slow-handler",
        summary: "a handler call lasts longer than max.poll.interval.ms",
        usesGroup: true,
        consumerProperties: ["max.poll.interval.ms": "7000"],
        needsTransactions: true,
        faults: [
            ChaosFault("handler-stalled-8s", at: 0.3) { run in run.stallNextHandler(for: .seconds(8)) }
        ]
    )

    /// Partition leadership moves and fetches fail with NOT_LEADER_FOR_PARTITION.
    public static let leaderMove = ChaosScenario(
        name: "leader-move",
        summary: "partition leaders move and Fetch fails with NOT_LEADER_FOR_PARTITION",
        faults: [
            ChaosFault("leaders-moved", at: 0.3) { run in
                for partition in 0..<run.partitionCount {
                    try run.cluster.setPartitionLeader(topic: run.topic, partition: Int32(partition), broker: 2)
                }
                run.cluster.injectErrors(.fetch, Array(repeating: .notLeaderForPartition, count: 4))
            }
        ]
    )

    /// Every broker goes down, then comes back.
    public static let clusterDown = ChaosScenario(
        name: "cluster-down",
        summary: "every broker goes down for three seconds",
        faults: [
            ChaosFault(
                "cluster-down",
                at: 0.4,
                healAfter: .seconds(3),
                inject: { run in try run.cluster.setBrokerDown() },
                heal: { run in try run.cluster.setBrokerUp() }
            )
        ]
    )

    /// Every broker answers slowly.
    public static let latency = ChaosScenario(
        name: "latency",
        summary: "every broker answers 50 ms late",
        faults: [
            ChaosFault(
                "rtt-50ms",
                at: 0.1,
                healAfter: .seconds(3),
                inject: { run in try run.cluster.setRoundTripTime(.milliseconds(50)) },
                heal: { run in try run.cluster.setRoundTripTime(.zero) }
            )
        ]
    )

    /// The store refuses every call for a while.
    public static let storeOutage = ChaosScenario(
        name: "store-outage",
        summary: "the deduplication store is unavailable for two seconds",
        faults: [
            ChaosFault("store-unavailable-2s", at: 0.4) { run in run.store.startOutage(for: .seconds(2)) }
        ]
    )

    /// The store fails inside the handler's transaction: its savepoints are refused for a while.
    /// That is the store's failure, to be retried, never the message's: no id may be dead-lettered.
    public static let savepointsRefused = ChaosScenario(
        name: "savepoints-refused",
        summary: "the store refuses the handler's savepoints for two seconds, inside its transactions",
        needsTransactions: true,
        faults: [
            ChaosFault("savepoints-refused-2s", at: 0.4) { run in run.store.refuseSavepoints(for: .seconds(2)) }
        ]
    )

    /// Some ids always fail: they must be dead-lettered and the stream must go on.
    public static let poisonMessages = ChaosScenario(
        name: "poison",
        summary: "the handler always fails for one id in 97: retried, dead-lettered, recorded failed",
        poisons: { $0 % 97 == 13 },
        faults: []
    )

    /// A second consumer takes the partitions while the first still runs: the first is a zombie.
    public static let zombie = ChaosScenario(
        name: "zombie",
        summary: "a second consumer takes over the partitions while the first keeps running",
        needsTransactions: true,
        faults: [
            ChaosFault("zombie-created", at: 0.3) { run in try await run.startConsumer() },
            ChaosFault("zombie-stopped", at: 0.7) { run in await run.stopFirstConsumer() },
        ]
    )

    /// What `kafka-once demo` shows: a rejected commit, a crash before commit, and a member joining
    /// (a rebalance), over a stream with duplicate produces.
    public static let demo = ChaosScenario(
        name: "demo",
        summary: "a rejected commit, a crash before commit, and a rebalance, with duplicate produces",
        usesGroup: true,
        duplicateShare: 0.1,
        faults: [
            ChaosFault("commit-rejected", at: 0.15) { run in
                run.cluster.injectErrors(.offsetCommit, [.rebalanceInProgress, .notCoordinator, .illegalGeneration])
            },
            ChaosFault("consumer-crashed-before-commit", at: 0.3) { run in try await run.crashAndRestart() },
            ChaosFault("member-joined-rebalance", at: 0.6) { run in try await run.startConsumer() },
        ]
    )

    /// The consumer runs in a child process that is killed with SIGKILL again and again.
    public static let killed = ChaosScenario(
        name: "sigkill",
        summary: "the consumer process is killed with SIGKILL at random points, at least five times, and restarted",
        needsTransactions: true,
        killsChildProcess: true,
        faults: []
    )
}
