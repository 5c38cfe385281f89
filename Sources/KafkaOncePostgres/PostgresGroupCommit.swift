import CLibPQ
import KafkaOnce

/// A claim, a finish or a release for one partition, as the group commit runs it.
enum PostgresWrite: Sendable {
    case claim(PostgresClaim)
    case finish(PostgresFinish)
    case release(PostgresRelease)

    var fence: PartitionFence {
        switch self {
        case .claim(let claim): claim.fence
        case .finish(let finish): finish.fence
        case .release(let release): release.fence
        }
    }

    /// How many keys or outcomes the write carries, to bound a group's size.
    var size: Int {
        switch self {
        case .claim(let claim): claim.requests.count
        case .finish(let finish): finish.outcomes.count
        case .release(let release): release.keys.count
        }
    }

    var action: String {
        switch self {
        case .claim(let claim): claim.action
        case .finish(let finish): finish.action
        case .release(let release): release.action
        }
    }
}

/// Runs the claims, finishes and releases of several partitions in one transaction with one commit.
///
/// 1. One round trip: `BEGIN`, the partition rows of every fence locked `FOR SHARE`, then each
///    claim's insert-and-lock statement, each finish's upsert and each release's delete, all
///    pipelined; for a group without claims, `COMMIT` too, and that is all.
/// 2. Claims decide in Swift from the records they locked (a key inserted concurrently costs one
///    more round trip for that claim).
/// 3. One round trip: the claims' takeovers, then `COMMIT`.
///
/// A write whose fence is stale writes nothing and gets ``/KafkaOnce/DeduplicationStoreError/Code/fenced``;
/// the others commit. When the commit fails, nothing of the group is kept.
enum PostgresGroupCommit {
    /// How many times a claim looks again for keys that other transactions inserted meanwhile.
    static let claimPasses = 4

    /// Runs `writes` and returns, for each, the claim outcomes (empty for a finish or a release)
    /// or its error.
    ///
    /// - Throws: ``PostgresFailure`` when the transaction failed as a whole; it was rolled back.
    static func run(
        _ writes: [PostgresWrite],
        on connection: PostgresConnection,
        location: PostgresLocation
    ) throws -> [Result<[ClaimOutcome], DeduplicationStoreError>] {
        do {
            return try runTransaction(writes, on: connection, location: location)
        } catch {
            if !connection.isBroken, connection.transactionStatus != PQTRANS_IDLE {
                _ = try? connection.execute(PostgresStatement("ROLLBACK"))
            }
            throw error
        }
    }

    private static func runTransaction(
        _ writes: [PostgresWrite],
        on connection: PostgresConnection,
        location: PostgresLocation
    ) throws -> [Result<[ClaimOutcome], DeduplicationStoreError>] {
        var statements = [
            PostgresStatement("BEGIN"),
            PostgresFenceCheck.lockStatement(writes.map(\.fence.partition)),
        ]
        var hasClaims = false
        for write in writes {
            switch write {
            case .claim(let claim):
                statements.append(claim.lockStatement())
                hasClaims = true
            case .finish(let finish):
                statements.append(finish.statement())
            case .release(let release):
                statements.append(release.statement())
            }
        }
        // Finishes and releases decide nothing from what they read (a stale fence makes them write
        // nothing), so a group without claims commits in the same round trip.
        if !hasClaims { statements.append(PostgresStatement("COMMIT")) }
        let results = try connection.pipeline(statements)
        let fences = try PostgresFenceCheck(results[1])
        if !hasClaims {
            try requireCommit(results.last)
            return writes.map { fences.violation(of: $0.fence, at: location).map { .failure($0) } ?? .success([]) }
        }

        var outcomes: [Result<[ClaimOutcome], DeduplicationStoreError>] = []
        var takeovers: [PostgresStatement] = []
        for (index, write) in writes.enumerated() {
            if let violation = fences.violation(of: write.fence, at: location) {
                outcomes.append(.failure(violation))
                continue
            }
            guard case .claim(var claim) = write, let now = fences.now else {
                outcomes.append(.success([]))
                continue
            }
            try claim.absorb(results[index + 2])
            try resolve(&claim, on: connection)
            let decision = claim.decide(now: now)
            outcomes.append(.success(decision.outcomes))
            if let write = decision.write { takeovers.append(write) }
        }

        let committed = try connection.pipeline(takeovers + [PostgresStatement("COMMIT")])
        try requireCommit(committed.last)
        return outcomes
    }

    /// Looks again for the keys of `claim` that were inserted by another transaction while its
    /// first statement ran.
    static func resolve(_ claim: inout PostgresClaim, on connection: PostgresConnection) throws {
        var passes = 1
        while !claim.isResolved {
            guard passes < claimPasses else {
                // Reported as a serialization failure, so the whole claim is retried.
                throw PostgresFailure(
                    sqlState: "40001",
                    message: "other consumers kept inserting and deleting the same keys during the claim"
                )
            }
            try claim.absorb(connection.execute(claim.lockStatement()))
            passes += 1
        }
    }

    /// Throws unless `result` is a `COMMIT` that committed: PostgreSQL answers `ROLLBACK` to the
    /// `COMMIT` of a transaction that had already failed.
    static func requireCommit(_ result: PostgresResult?) throws(PostgresFailure) {
        guard result?.commandStatus != "COMMIT" else { return }
        throw PostgresFailure(
            message: "the server rolled the transaction back instead of committing it"
        )
    }
}
