import KafkaOnce

/// One partition's outcomes, written by a single statement.
///
/// The statement updates the records that exist and inserts the others (`INSERT … ON CONFLICT`
/// catches a record that appeared meanwhile). It writes nothing when the fence is stale, and the
/// caller's transaction holds the partition row `FOR SHARE`, so the fence cannot change before
/// the commit.
struct PostgresFinish: Sendable {
    let fence: PartitionFence
    /// The last outcome of each key, in the order given.
    let outcomes: [RecordedOutcome]
    /// How many outcomes the caller passed, duplicates included.
    let count: Int

    /// - Throws: ``/KafkaOnce/DeduplicationStoreError/Code/invalidArgument`` for an outcome outside the fence's
    ///   partition or a key, failure reason or owner with a NUL character.
    init(_ outcomes: [RecordedOutcome], fence: PartitionFence) throws(DeduplicationStoreError) {
        try PostgresValidation.fence(fence)
        var seen = Set<String>(minimumCapacity: outcomes.count)
        var hasRepeatedKeys = false
        for outcome in outcomes {
            try PostgresValidation.text(outcome.key, "the key '\(outcome.key)'")
            try PostgresValidation.origin(outcome.origin, of: outcome.key, in: fence)
            if case .failed(let reason) = outcome.kind {
                try PostgresValidation.text(reason, "the failure reason of key '\(outcome.key)'")
            }
            hasRepeatedKeys = !seen.insert(outcome.key).inserted || hasRepeatedKeys
        }
        self.fence = fence
        // One statement cannot write a row twice: only a key's last outcome counts.
        self.outcomes = hasRepeatedKeys ? Self.lastOfEachKey(outcomes) : outcomes
        count = outcomes.count
    }

    private static func lastOfEachKey(_ outcomes: [RecordedOutcome]) -> [RecordedOutcome] {
        var seen: Set<String> = []
        return outcomes.reversed().filter { seen.insert($0.key).inserted }.reversed()
    }

    /// The statement that records every outcome, or nothing when the fence is stale.
    func statement() -> PostgresStatement {
        PostgresStatement(
            """
            WITH input AS (
                SELECT * FROM unnest($5::text[], $6::text[], $7::text[], $8::bigint[], $9::bytea[], $10::text[],
                    $11::integer[]) AS i(key, fingerprint, state, "offset", result, failure_reason, attempts)
            ),
            fence AS (
                SELECT 1 FROM kafka_once_partitions
                WHERE topic = $1::text AND partition = $2::integer AND owner = $3::text AND epoch = $4::bigint
            ),
            updated AS (
                UPDATE kafka_once_records AS r
                SET fingerprint = i.fingerprint, state = i.state, owner = $3::text, epoch = $4::bigint,
                    topic = $1::text, partition = $2::integer, "offset" = i."offset", lease_expiry = NULL,
                    result = i.result, failure_reason = i.failure_reason, attempts = i.attempts, updated_at = now()
                FROM input AS i
                WHERE r.key = i.key AND EXISTS (SELECT 1 FROM fence)
                RETURNING r.key
            )
            INSERT INTO kafka_once_records AS r
                (key, fingerprint, state, owner, epoch, topic, partition, "offset", result, failure_reason,
                 attempts, created_at, updated_at)
            SELECT i.key, i.fingerprint, i.state, $3::text, $4::bigint, $1::text, $2::integer, i."offset",
                i.result, i.failure_reason, i.attempts, now(), now()
            FROM input AS i
            WHERE EXISTS (SELECT 1 FROM fence) AND NOT EXISTS (SELECT 1 FROM updated AS u WHERE u.key = i.key)
            ON CONFLICT (key) DO UPDATE
            SET fingerprint = excluded.fingerprint, state = excluded.state, owner = excluded.owner,
                epoch = excluded.epoch, topic = excluded.topic, partition = excluded.partition,
                "offset" = excluded."offset", lease_expiry = NULL, result = excluded.result,
                failure_reason = excluded.failure_reason, attempts = excluded.attempts, updated_at = now()
            """,
            [
                .text(fence.partition.topic),
                .integer(fence.partition.partition),
                .text(fence.owner),
                .integer(fence.epoch),
                PostgresArrayLiteral.strings(outcomes.map(\.key)),
                PostgresArrayLiteral.fingerprints(outcomes.map(\.fingerprint)),
                PostgresArrayLiteral.strings(outcomes.map(\.stateName)),
                PostgresArrayLiteral.integers(outcomes.map(\.origin.offset)),
                PostgresArrayLiteral.byteas(outcomes.map(\.storedResult)),
                PostgresArrayLiteral.strings(outcomes.map(\.failureReason)),
                PostgresArrayLiteral.integers(outcomes.map(\.attempts)),
            ],
            prepared: true
        )
    }

    /// What the finish does, for error messages.
    var action: String {
        "record \(counted(count, "outcome")) for \(fence.partition)"
    }
}

extension RecordedOutcome {
    fileprivate var stateName: String? {
        switch kind {
        case .completed: DeduplicationRecord.State.completed.rawValue
        case .failed: DeduplicationRecord.State.failed.rawValue
        }
    }

    fileprivate var storedResult: [UInt8]? {
        if case .completed(let result) = kind { result } else { nil }
    }

    fileprivate var failureReason: String? {
        if case .failed(let reason) = kind { reason } else { nil }
    }
}
