import Foundation
import KafkaOnce

/// One partition's claim of a batch of keys, in two steps inside one transaction.
///
/// 1. ``lockStatement()`` inserts an in-progress record for every key that has none, and locks
///    and returns the records that exist (`FOR UPDATE`), all in one statement.
/// 2. ``decide(now:)`` applies ``/KafkaOnce/ClaimRules`` to the requests in order, exactly as the in-memory
///    store does, and returns the statement that writes the claims taken over or renewed.
///
/// A key inserted by another transaction while the first statement ran is neither inserted nor
/// returned; ``lockStatement()`` then covers just those keys again, with a fresh snapshot.
struct PostgresClaim: Sendable {
    let requests: [ClaimRequest]
    let fence: PartitionFence
    let leaseSeconds: Double
    /// The first request of each distinct key, sorted, so that every claim inserts and locks rows
    /// in one order.
    private var unresolved: [Int]
    /// Keys that more than one request claims.
    private let repeatedKeys: Set<String>
    /// Records that existed, now locked by this transaction. Once every key is resolved, the keys
    /// not in here are the ones this transaction inserted.
    private var existing: [String: DeduplicationRecord] = [:]

    /// - Throws: ``/KafkaOnce/DeduplicationStoreError/Code/invalidArgument`` for a request outside the fence's
    ///   partition, a key with a NUL character, or a negative lease.
    init(
        _ requests: [ClaimRequest],
        fence: PartitionFence,
        leaseDuration: Duration
    ) throws(DeduplicationStoreError) {
        try PostgresValidation.fence(fence)
        let leaseSeconds = leaseDuration.timeInterval
        guard leaseSeconds >= 0 else {
            throw DeduplicationStoreError(
                .invalidArgument,
                "the lease duration \(leaseDuration) is negative; pass how long a claim is held, "
                    + "such as .seconds(30)"
            )
        }
        var seen = Set<String>(minimumCapacity: requests.count)
        var firstRequests: [Int] = []
        var repeatedKeys: Set<String> = []
        for (index, request) in requests.enumerated() {
            try PostgresValidation.text(request.key, "the key '\(request.key)'")
            try PostgresValidation.origin(request.origin, of: request.key, in: fence)
            if seen.insert(request.key).inserted {
                firstRequests.append(index)
            } else {
                repeatedKeys.insert(request.key)
            }
        }
        self.requests = requests
        self.fence = fence
        self.leaseSeconds = leaseSeconds
        self.repeatedKeys = repeatedKeys
        unresolved = firstRequests.sorted { requests[$0].key < requests[$1].key }
    }

    /// Whether every key was either inserted or found and locked.
    var isResolved: Bool { unresolved.isEmpty }

    /// Inserts the unresolved keys that have no record, and locks and returns those that have one.
    ///
    /// Returns one row per unresolved key it did not insert: its position (from 1), whether a
    /// record exists, and the record. Writes nothing when the fence is stale.
    func lockStatement() -> PostgresStatement {
        PostgresStatement(
            """
            WITH input AS (
                SELECT * FROM unnest($5::text[], $6::text[], $7::bigint[])
                    WITH ORDINALITY AS i(key, fingerprint, "offset", ord)
            ),
            fence AS (
                SELECT 1 FROM kafka_once_partitions
                WHERE topic = $1::text AND partition = $2::integer AND owner = $3::text AND epoch = $4::bigint
            ),
            inserted AS (
                INSERT INTO kafka_once_records
                    (key, fingerprint, state, owner, epoch, topic, partition, "offset", lease_expiry, attempts,
                     created_at, updated_at)
                SELECT key, fingerprint, 'in_progress', $3::text, $4::bigint, $1::text, $2::integer, "offset",
                    now() + $8::float8 * interval '1 second', 0, now(), now()
                FROM input
                WHERE EXISTS (SELECT 1 FROM fence)
                ON CONFLICT (key) DO NOTHING
                RETURNING key
            ),
            existing AS (
                SELECT r.* FROM kafka_once_records AS r
                WHERE r.key = ANY($5::text[]) AND EXISTS (SELECT 1 FROM fence)
                FOR UPDATE
            )
            SELECT i.ord, e.key IS NOT NULL, \(PostgresRecordColumns.list("e"))
            FROM input AS i LEFT JOIN existing AS e ON e.key = i.key
            WHERE NOT EXISTS (SELECT 1 FROM inserted AS n WHERE n.key = i.key)
            """,
            fenceParameters + [
                PostgresArrayLiteral.strings(unresolved.map { requests[$0].key }),
                PostgresArrayLiteral.fingerprints(unresolved.map { requests[$0].fingerprint }),
                PostgresArrayLiteral.integers(unresolved.map { requests[$0].origin.offset }),
                .real(leaseSeconds),
            ],
            prepared: true
        )
    }

    /// Takes in the result of ``lockStatement()``.
    mutating func absorb(_ result: PostgresResult) throws(PostgresFailure) {
        var stillUnresolved: [Int] = []
        for row in result.rows {
            let index = unresolved[Int(try row.int64(0)) - 1]
            if try row.bool(1) {
                existing[requests[index].key] = try PostgresRecordColumns.decode(row, from: 2)
            } else {
                stillUnresolved.append(index)
            }
        }
        unresolved = stillUnresolved
    }

    /// The outcome of every request, in order, and the statement that writes the claims it took
    /// over or renewed (`nil` when the inserts were all it needed).
    ///
    /// - Parameter now: The transaction's time on the server, which lease expiries are compared to.
    func decide(now: Date) -> (outcomes: [ClaimOutcome], write: PostgresStatement?) {
        // The common batch: new keys only, each once. The inserts were the whole claim.
        if existing.isEmpty, repeatedKeys.isEmpty {
            return (Array(repeating: .acquired, count: requests.count), nil)
        }
        var current = existing
        var rewritten: [String: Int64] = [:]
        var outcomes: [ClaimOutcome] = []
        outcomes.reserveCapacity(requests.count)
        let leaseExpiry = now.addingTimeInterval(leaseSeconds)

        for request in requests {
            let previous = current[request.key]
            let (outcome, claimed) = ClaimRules.decide(request, existing: previous, fence: fence, now: now)
            outcomes.append(outcome)
            guard claimed else { continue }
            // A key with no record yet is one this transaction inserted, already as it should be.
            if previous != nil { rewritten[request.key] = request.origin.offset }
            guard previous != nil || repeatedKeys.contains(request.key) else { continue }
            current[request.key] = ClaimRules.inProgressRecord(
                for: request,
                fence: fence,
                previous: previous,
                leaseExpiry: leaseExpiry,
                now: now
            )
        }
        return (outcomes, rewritten.isEmpty ? nil : writeStatement(rewritten))
    }

    /// Makes the rows of `offsets`' keys in-progress claims of this fence. The rows are locked by
    /// this transaction, so an update is enough.
    private func writeStatement(_ offsets: [String: Int64]) -> PostgresStatement {
        let keys = offsets.keys.sorted()
        return PostgresStatement(
            """
            UPDATE kafka_once_records AS r
            SET state = 'in_progress', owner = $3::text, epoch = $4::bigint, topic = $1::text,
                partition = $2::integer, "offset" = i."offset",
                lease_expiry = now() + $5::float8 * interval '1 second', result = NULL, failure_reason = NULL,
                updated_at = now()
            FROM unnest($6::text[], $7::bigint[]) AS i(key, "offset")
            WHERE r.key = i.key
            """,
            fenceParameters + [
                .real(leaseSeconds),
                PostgresArrayLiteral.strings(keys),
                PostgresArrayLiteral.integers(keys.map { offsets[$0]! }),
            ],
            prepared: true
        )
    }

    private var fenceParameters: [PostgresParameter] {
        [
            .text(fence.partition.topic),
            .integer(fence.partition.partition),
            .text(fence.owner),
            .integer(fence.epoch),
        ]
    }

    /// What the claim does, for error messages.
    var action: String {
        "claim \(counted(requests.count, "key")) for \(fence.partition)"
    }
}

extension Duration {
    /// The duration in seconds.
    var timeInterval: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}
