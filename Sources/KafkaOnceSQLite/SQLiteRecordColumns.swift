import CSQLite
import Foundation
import KafkaOnce

/// How a ``/KafkaOnce/DeduplicationRecord`` is laid out in `kafka_once_records`.
///
/// Times are seconds since 1970 as REAL, the fingerprint is its 32 hexadecimal digits, and the
/// state is ``/KafkaOnce/DeduplicationRecord/State``'s raw value.
enum SQLiteRecordColumns {
    /// The columns ``decode(_:)`` reads, in its order.
    static let selectList = """
        key, fingerprint, state, owner, epoch, topic, "partition", "offset", lease_expiry, result, \
        failure_reason, attempts, created_at, updated_at
        """

    /// Reads the record the statement is positioned on, selected with ``selectList``.
    ///
    /// - Throws: ``SQLiteFailure`` with `SQLITE_CORRUPT` when a value cannot have been written by
    ///   the store.
    static func decode(_ row: SQLiteStatement) throws -> DeduplicationRecord {
        let key = row.text(at: 0) ?? ""
        let fingerprintText = row.text(at: 1) ?? ""
        let stateText = row.text(at: 2) ?? ""
        guard let fingerprint = MessageFingerprint(hex: fingerprintText) else {
            throw SQLiteFailure(
                code: SQLITE_CORRUPT,
                detail: "the record of '\(key)' has the unreadable fingerprint '\(fingerprintText)'"
            )
        }
        guard let state = DeduplicationRecord.State(rawValue: stateText) else {
            throw SQLiteFailure(
                code: SQLITE_CORRUPT,
                detail: "the record of '\(key)' has the unknown state '\(stateText)'"
            )
        }

        return DeduplicationRecord(
            key: key,
            fingerprint: fingerprint,
            state: state,
            owner: row.text(at: 3) ?? "",
            epoch: row.integer(at: 4),
            origin: KafkaTopicPartitionOffset(
                topic: row.text(at: 5) ?? "",
                partition: Int32(truncatingIfNeeded: row.integer(at: 6)),
                offset: row.integer(at: 7)
            ),
            leaseExpiry: row.real(at: 8).map(Date.init(timeIntervalSince1970:)),
            result: row.bytes(at: 9),
            failureReason: row.text(at: 10),
            attempts: Int(row.integer(at: 11)),
            createdAt: Date(timeIntervalSince1970: row.real(at: 12) ?? 0),
            updatedAt: Date(timeIntervalSince1970: row.real(at: 13) ?? 0)
        )
    }
}

extension SQLiteConnection {
    /// The record of `key`, if there is one.
    func record(for key: String) throws -> DeduplicationRecord? {
        try prepared("SELECT \(SQLiteRecordColumns.selectList) FROM kafka_once_records WHERE key = ?")
            .firstRow([.text(key)], SQLiteRecordColumns.decode)
    }
}
