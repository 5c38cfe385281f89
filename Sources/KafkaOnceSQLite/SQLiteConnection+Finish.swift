import Foundation
import KafkaOnce

extension SQLiteConnection {
    /// Records outcomes under a fence already checked in the caller's transaction.
    func finish(_ outcomes: [RecordedOutcome], fence: PartitionFence, now: Date) throws {
        let upsert = try prepared(
            """
            INSERT INTO kafka_once_records (key, fingerprint, state, owner, epoch, topic, "partition",
                "offset", lease_expiry, result, failure_reason, attempts, created_at, updated_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL, ?, ?, ?, ?, ?)
            ON CONFLICT (key) DO UPDATE SET
                fingerprint = excluded.fingerprint, state = excluded.state, owner = excluded.owner,
                epoch = excluded.epoch, topic = excluded.topic, "partition" = excluded."partition",
                "offset" = excluded."offset", lease_expiry = NULL, result = excluded.result,
                failure_reason = excluded.failure_reason, attempts = excluded.attempts,
                updated_at = excluded.updated_at
            """
        )
        let nowSeconds = now.timeIntervalSince1970
        for outcome in outcomes {
            let (state, result, reason): (DeduplicationRecord.State, [UInt8]?, String?) =
                switch outcome.kind {
                case .completed(let result): (.completed, result, nil)
                case .failed(let reason): (.failed, nil, reason)
                }
            try upsert.run { row in
                row.add(outcome.key)
                row.add(outcome.fingerprint.hexDigits)
                row.add(state.rawValue)
                row.add(fence.owner)
                row.add(fence.epoch)
                row.add(outcome.origin.topic)
                row.add(Int64(outcome.origin.partition))
                row.add(outcome.origin.offset)
                row.add(result)
                row.add(reason)
                row.add(Int64(outcome.attempts))
                row.add(nowSeconds)
                row.add(nowSeconds)
            }
        }
    }
}
