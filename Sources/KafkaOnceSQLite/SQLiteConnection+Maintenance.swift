import Foundation
import KafkaOnce

extension SQLiteConnection {
    /// Deletes one key's record and tells whether there was one.
    func forget(_ key: String) throws -> Bool {
        try prepared("DELETE FROM kafka_once_records WHERE key = ?").run([.text(key)]) > 0
    }

    /// Deletes at most `limit` finished records last updated before `cutoff`, in one statement.
    ///
    /// - Returns: How many were deleted; fewer than `limit` means none is left.
    func purgeBatch(updatedBefore cutoff: Date, limit: Int) throws -> Int {
        try prepared(
            """
            DELETE FROM kafka_once_records WHERE rowid IN (
                SELECT rowid FROM kafka_once_records
                WHERE state IN ('completed', 'failed') AND updated_at < ?
                LIMIT ?
            )
            """
        ).run([.real(cutoff.timeIntervalSince1970), .integer(Int64(limit))])
    }

    /// Counts records by state from the state index alone.
    func statistics() throws -> DeduplicationStoreStatistics {
        var counts: [DeduplicationRecord.State: Int] = [:]
        var oldest: Double?
        var newest: Double?
        try prepared(
            "SELECT state, COUNT(*), MIN(updated_at), MAX(updated_at) FROM kafka_once_records GROUP BY state"
        ).forEachRow { row in
            if let state = row.text(at: 0).flatMap(DeduplicationRecord.State.init(rawValue:)) {
                counts[state] = Int(row.integer(at: 1))
            }
            if let low = row.real(at: 2) {
                oldest = min(oldest ?? low, low)
            }
            if let high = row.real(at: 3) {
                newest = max(newest ?? high, high)
            }
        }
        return DeduplicationStoreStatistics(
            inProgress: counts[.inProgress] ?? 0,
            completed: counts[.completed] ?? 0,
            failed: counts[.failed] ?? 0,
            oldestUpdate: oldest.map(Date.init(timeIntervalSince1970:)),
            newestUpdate: newest.map(Date.init(timeIntervalSince1970:))
        )
    }

    /// The keys among `keys` that have a completed or failed record, read from one snapshot.
    func finishedKeys(among keys: [String]) throws -> Set<String> {
        let lookup = try prepared(
            "SELECT 1 FROM kafka_once_records WHERE key = ? AND state IN ('completed', 'failed')"
        )
        return try inReadTransaction {
            var finished: Set<String> = []
            for key in Set(keys) where try lookup.firstRow([.text(key)], { _ in true }) == true {
                finished.insert(key)
            }
            return finished
        }
    }
}
