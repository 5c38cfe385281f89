import Foundation
import KafkaOnce

/// One ``SQLiteDeduplicationStore/finish(_:fence:)`` call waiting for the next group commit.
struct SQLiteFinishCall: Sendable {
    var outcomes: [RecordedOutcome]
    var fence: PartitionFence
}

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

    /// Records several calls' outcomes in one transaction and one sync.
    ///
    /// Each call's fence is checked inside the transaction. A call with a stale fence, or whose
    /// writes fail, fails alone and leaves none of its rows; the others commit. When the transaction
    /// itself cannot begin or commit, every call fails and nothing is written.
    ///
    /// - Returns: One result per call, in order.
    func finish(_ calls: [SQLiteFinishCall], now: Date) -> [Result<Void, any Error>] {
        let action =
            calls.count == 1 ? "recording outcomes" : "recording the outcomes of \(calls.count) finish calls"
        do {
            let results = try inWriteTransaction {
                var results: [Result<Void, any Error>] = []
                for call in calls {
                    do {
                        try checkFence(call.fence)
                        try inSavepoint { try finish(call.outcomes, fence: call.fence, now: now) }
                        results.append(.success(()))
                    } catch {
                        // Some I/O errors end the whole transaction: then no call's rows stay.
                        guard isInTransaction else { throw error }
                        let action = "recording outcomes for \(call.fence)"
                        results.append(.failure(storeError(error, action: action)))
                    }
                }
                return results
            }
            finishTransactionCount += 1
            return results
        } catch {
            let failure = storeError(error, action: action)
            return calls.map { _ in .failure(failure) }
        }
    }
}
