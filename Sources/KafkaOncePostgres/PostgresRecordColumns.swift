import KafkaOnce

/// The columns a query selects to read a whole ``/KafkaOnce/DeduplicationRecord``, and how to decode them.
enum PostgresRecordColumns {
    /// How many columns ``list(_:)`` selects.
    static let count = 14

    /// The select list for the records table under `alias`; timestamps come back as epoch seconds.
    static func list(_ alias: String) -> String {
        let a = alias
        return """
            \(a).key, \(a).fingerprint, \(a).state, \(a).owner, \(a).epoch, \(a).topic, \(a).partition, \
            \(a)."offset", extract(epoch FROM \(a).lease_expiry), \(a).result, \(a).failure_reason, \(a).attempts, \
            extract(epoch FROM \(a).created_at), extract(epoch FROM \(a).updated_at)
            """
    }

    /// Decodes the columns of ``list(_:)`` starting at column `start` of `row`.
    static func decode(_ row: PostgresRow, from start: Int = 0) throws(PostgresFailure) -> DeduplicationRecord {
        let key = try row.string(start)
        let fingerprintText = try row.string(start + 1)
        let stateText = try row.string(start + 2)
        guard let fingerprint = MessageFingerprint(hex: fingerprintText),
            let state = DeduplicationRecord.State(rawValue: stateText)
        else {
            throw PostgresFailure(
                message: "the record of key '\(key)' has fingerprint '\(fingerprintText)' and state "
                    + "'\(stateText)', which this version of KafkaOnce cannot read; was the row written by hand?"
            )
        }
        return DeduplicationRecord(
            key: key,
            fingerprint: fingerprint,
            state: state,
            owner: try row.string(start + 3),
            epoch: try row.int64(start + 4),
            origin: KafkaTopicPartitionOffset(
                topic: try row.string(start + 5),
                partition: Int32(truncatingIfNeeded: try row.int64(start + 6)),
                offset: try row.int64(start + 7)
            ),
            leaseExpiry: try row.optionalDate(start + 8),
            result: try row.optionalBytes(start + 9),
            failureReason: row.optionalString(start + 10),
            attempts: Int(try row.int64(start + 11)),
            createdAt: try row.date(start + 12),
            updatedAt: try row.date(start + 13)
        )
    }
}
