/// What one scenario did and whether the invariants held.
public struct ChaosScenarioReport: Sendable, Codable {
    /// One injected fault and when, in seconds from the scenario's start.
    public struct InjectedFault: Sendable, Codable, CustomStringConvertible {
        public var name: String
        public var seconds: Double

        public var description: String {
            "\(name)@\((seconds * 10).rounded() / 10)s"
        }
    }

    public var name: String
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
    public var seed: UInt64
    public var scenarios: [ChaosScenarioReport]

    /// Whether every scenario passed.
    public var passed: Bool { scenarios.allSatisfy(\.passed) }
}
