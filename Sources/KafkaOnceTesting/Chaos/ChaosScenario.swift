import KafkaOnce

/// One redelivery fault from the catalogue, with the invariant it must not break.
///
/// Every scenario produces messages with unique ids (and some duplicate produces), runs the
/// consumer, injects its faults at seeded points of progress, heals, drains, and then checks:
/// nothing lost, nothing duplicated, no commit ahead of the records, and a final commit at the
/// high watermark.
public struct ChaosScenario: Sendable, CustomStringConvertible {
    /// The name used by `kafka-once chaos --scenario`.
    public let name: String
    /// The fault, in a sentence.
    public let summary: String
    /// Whether consumers join a group (rebalances) rather than assigning partitions directly.
    let usesGroup: Bool
    /// Raw consumer properties the fault needs.
    let consumerProperties: [String: String]
    /// The share of ids produced twice.
    let duplicateShare: Double
    /// Ids for which the handler always fails.
    let poisons: @Sendable (Int) -> Bool
    /// The fault steps, in order.
    let faults: [ChaosFault]
    /// Whether the invariants only hold with effects in the store's transaction (a zombie or a
    /// kill can interrupt a plain handler between its effect and its record).
    let needsTransactions: Bool
    /// Whether the consumer runs in a child process that is killed.
    let killsChildProcess: Bool

    /// The scenario's ``name``.
    public var description: String { name }

    /// Whether the handler always fails for the chaos id `id` (`run-<n>-<index>`).
    func isPoisoned(id: String) -> Bool {
        guard let index = id.split(separator: "-").last.flatMap({ Int($0) }) else { return false }
        return poisons(index)
    }

    init(
        name: String,
        summary: String,
        usesGroup: Bool = false,
        consumerProperties: [String: String] = [:],
        duplicateShare: Double = 0.05,
        poisons: @escaping @Sendable (Int) -> Bool = { _ in false },
        needsTransactions: Bool = false,
        killsChildProcess: Bool = false,
        faults: [ChaosFault]
    ) {
        self.name = name
        self.summary = summary
        self.usesGroup = usesGroup
        self.consumerProperties = consumerProperties
        self.duplicateShare = duplicateShare
        self.poisons = poisons
        self.needsTransactions = needsTransactions
        self.killsChildProcess = killsChildProcess
        self.faults = faults
    }
}

/// A fault: injected once progress reaches `progress` (a share of the acknowledged ids, moved
/// a little by the seed), and healed `healAfter` later when it has a heal.
struct ChaosFault: Sendable {
    let name: String
    let progress: Double
    let inject: @Sendable (ChaosRun) async throws -> Void
    let healAfter: Duration
    let heal: (@Sendable (ChaosRun) async throws -> Void)?

    init(
        _ name: String,
        at progress: Double,
        healAfter: Duration = .zero,
        inject: @escaping @Sendable (ChaosRun) async throws -> Void,
        heal: (@Sendable (ChaosRun) async throws -> Void)? = nil
    ) {
        self.name = name
        self.progress = progress
        self.inject = inject
        self.healAfter = healAfter
        self.heal = heal
    }
}
