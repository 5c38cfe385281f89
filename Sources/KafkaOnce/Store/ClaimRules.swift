import struct Foundation.Date

/// The claim decision every store makes, written once for the stores that decide in Swift.
///
/// SQL stores may decide in SQL instead, but must reach the same outcomes; the conformance
/// checks in `KafkaOnceTesting` hold every store to them.
public enum ClaimRules {
    /// What a claim of `request` finds, given the existing record, and whether the caller now
    /// holds the claim (so the store must write an in-progress record).
    public static func decide(
        _ request: ClaimRequest,
        existing: DeduplicationRecord?,
        fence: PartitionFence,
        now: Date
    ) -> (outcome: ClaimOutcome, claimed: Bool) {
        guard let existing else { return (.acquired, true) }
        if existing.fingerprint != request.fingerprint { return (.conflict(existing), false) }

        switch existing.state {
        case .completed:
            return (.completed(existing), false)
        case .failed:
            return (.failed(existing), false)
        case .inProgress:
            if existing.origin.topicPartition == fence.partition {
                if existing.owner == fence.owner && existing.epoch == fence.epoch { return (.acquired, true) }
                // An earlier epoch of the same partition: its owner lost the partition.
                return existing.epoch < fence.epoch ? (.abandoned(existing), true) : (.busy(existing), false)
            }
            if let expiry = existing.leaseExpiry, expiry <= now { return (.abandoned(existing), true) }
            return (.busy(existing), false)
        }
    }

    /// The in-progress record a successful claim writes.
    public static func inProgressRecord(
        for request: ClaimRequest,
        fence: PartitionFence,
        previous: DeduplicationRecord?,
        leaseExpiry: Date,
        now: Date
    ) -> DeduplicationRecord {
        DeduplicationRecord(
            key: request.key,
            fingerprint: request.fingerprint,
            state: .inProgress,
            owner: fence.owner,
            epoch: fence.epoch,
            origin: request.origin,
            leaseExpiry: leaseExpiry,
            attempts: previous?.attempts ?? 0,
            createdAt: previous?.createdAt ?? now,
            updatedAt: now
        )
    }

    /// The record an outcome writes.
    public static func finishedRecord(
        _ outcome: RecordedOutcome,
        fence: PartitionFence,
        previous: DeduplicationRecord?,
        now: Date
    ) -> DeduplicationRecord {
        var record = DeduplicationRecord(
            key: outcome.key,
            fingerprint: outcome.fingerprint,
            state: .completed,
            owner: fence.owner,
            epoch: fence.epoch,
            origin: outcome.origin,
            attempts: outcome.attempts,
            createdAt: previous?.createdAt ?? now,
            updatedAt: now
        )
        switch outcome.kind {
        case .completed(let result):
            record.result = result
        case .failed(let reason):
            record.state = .failed
            record.failureReason = reason
        }
        return record
    }
}
