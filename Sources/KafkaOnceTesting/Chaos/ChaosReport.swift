/// What one scenario did and whether the invariants held.
public struct ChaosScenarioReport: Sendable, Codable {
    /// One injected fault and when, in seconds from the scenario's start.
    public struct InjectedFault: Sendable, Codable, CustomStringConvertible {
        /// The fault's name, such as `sigkill`; a healed fault is reported again as `NAME-healed`.
        public var name: String
        /// When the fault was injected or healed, in seconds from the scenario's start.
        public var seconds: Double

        /// `name@seconds`, the seconds to one decimal, such as `sigkill@12.3s`.
        public var description: String {
            "\(name)@\((seconds * 10).rounded() / 10)s"
        }
    }

    /// The scenario's name, as in ``ChaosScenario/name``.
    public var name: String
    /// The faults injected and healed, in order.
    public var faults: [InjectedFault]
    /// Distinct ids whose produce the broker acknowledged: the ground truth.
    public var acknowledged: Int
    /// Records produced, duplicate produces included.
    public var produced: Int
    /// Messages handed to handlers by polls, redeliveries included (in-process consumers only).
    public var deliveries: Int
    /// Messages skipped because their key was already recorded (in-process consumers only).
    public var duplicatesSkipped: Int
    /// Effects in the ledger.
    public var effects: Int
    /// Distinct ids with an effect.
    public var distinct: Int
    /// Ids dead-lettered instead of applied.
    public var deadLettered: Int
    /// Acknowledged ids with neither an effect nor a dead letter.
    public var lost: Int
    /// Effects beyond the first per id.
    public var duplicated: Int
    /// Commits that ran ahead of the recorded outcomes.
    public var commitsAheadOfRecords: Int
    /// Whether every partition's final committed offset equals its high watermark.
    public var finalCommitAtHighWatermark: Bool
    /// A few of the lost ids, for a first look.
    public var lostSample: [String]
    /// A few of the duplicated ids, for a first look.
    public var duplicatedSample: [String]
    /// Why the scenario was skipped, if it was.
    public var skipped: String?

    /// Whether nothing was lost, nothing duplicated, and no commit ran ahead.
    public var passed: Bool {
        skipped != nil
            || (lost == 0 && duplicated == 0 && commitsAheadOfRecords == 0 && finalCommitAtHighWatermark)
    }
}

/// The reports of a run of several scenarios.
public struct ChaosReport: Sendable, Codable {
    /// The seed of the run; running again with it repeats the same choices.
    public var seed: UInt64
    /// One report per scenario, in the order they ran.
    public var scenarios: [ChaosScenarioReport]

    /// Whether every scenario passed.
    public var passed: Bool { scenarios.allSatisfy(\.passed) }
}
