import Foundation
import KafkaOnce

/// Checks that a ``/KafkaOnce/DeduplicationStore`` keeps the contract the runtime builds on:
/// fencing by epoch, the claim outcomes, durable finishes, and the maintenance calls.
///
/// Every store the library ships passes these checks; run them against your own store too. Each
/// behaviour gets a fresh store from `makeStore` and closes it at the end, so the checks do not
/// depend on one another.
///
/// ```swift
/// @Test(arguments: DeduplicationStoreConformance.Behaviour.allCases)
/// func conforms(to behaviour: DeduplicationStoreConformance.Behaviour) async throws {
///     try await DeduplicationStoreConformance.check(behaviour) { try MyStore(url: testURL) }
/// }
/// ```
///
/// - Important: The checks write keys starting with `conformance/` on topics starting with
///   `conformance-`, and a store's clock must tell apart writes 20 ms apart (the lease and purge
///   checks wait that long). A store shared between checks must start each one empty.
public enum DeduplicationStoreConformance {
    /// One behaviour every store must have.
    public enum Behaviour: String, CaseIterable, Sendable, CustomStringConvertible {
        /// The first acquire of a partition returns epoch 1; each later one, whatever the owner,
        /// returns one more.
        case acquireStartsNewEpochs
        /// New keys are ``/KafkaOnce/ClaimOutcome/acquired`` and recorded in progress with the
        /// fence's owner and epoch, their origin, no attempts, and a lease in the future.
        case claimAcquiresNewKeys
        /// A key the same fence holds is ``/KafkaOnce/ClaimOutcome/acquired`` again, also when it
        /// appears twice in one batch.
        case claimRepeatsOwnClaims
        /// A completed key is ``/KafkaOnce/ClaimOutcome/completed(_:)`` with the result finish
        /// stored.
        case claimSkipsCompletedKeys
        /// A failed key is ``/KafkaOnce/ClaimOutcome/failed(_:)`` with the reason finish stored.
        case claimSkipsFailedKeys
        /// A key recorded with another fingerprint, completed or in progress, is
        /// ``/KafkaOnce/ClaimOutcome/conflict(_:)``, and its record is left as it was.
        case claimReportsConflicts
        /// A key another partition holds under an unexpired lease is
        /// ``/KafkaOnce/ClaimOutcome/busy(_:)``.
        case claimReportsBusyKeys
        /// A key held under an older epoch of the same partition is
        /// ``/KafkaOnce/ClaimOutcome/abandoned(_:)`` with the old holder, and now belongs to the
        /// new fence.
        case claimTakesOverStaleEpochs
        /// A key whose lease expired is ``/KafkaOnce/ClaimOutcome/abandoned(_:)`` for another
        /// partition, which then holds it as its own claim.
        case claimTakesOverExpiredLeases
        /// Claims and finishes under an older epoch, another owner, or a partition never acquired
        /// throw ``/KafkaOnce/DeduplicationStoreError/Code/fenced``, and a refused finish records
        /// nothing.
        case staleFencesAreRefused
        /// Finish records completed outcomes with their result (none and empty are different),
        /// failed ones with their reason, attempts and the fence, with or without a prior claim.
        case finishRecordsOutcomes
        /// Release deletes the keys in progress under exactly its fence, so a later epoch acquires
        /// them as new (``/KafkaOnce/ClaimOutcome/acquired``, not abandoned); it leaves finished
        /// keys, claims of another partition, owner or epoch, and keys without a record, and
        /// refuses a stale fence with ``/KafkaOnce/DeduplicationStoreError/Code/fenced``. A store
        /// that relies on the protocol's default, which releases nothing, fails this check.
        case releaseGivesUpOnlyItsOwnClaims
        /// Forget deletes one record, tells whether there was one, and leaves the others.
        case forgetDeletesOneRecord
        /// Purge with batches of 10 deletes all 25 finished records older than the cutoff, and
        /// keeps newer ones and in-progress ones.
        case purgeDeletesOldFinishedRecordsInBatches
        /// Statistics count records per state and report the oldest and newest update.
        case statisticsCountRecordsByState
        /// finishedKeys reports the completed and failed keys among those asked, and no others.
        case finishedKeysIgnoreInProgressKeys
        /// Finishes of eight partitions running at once are all recorded, while a concurrent
        /// finish with a stale fence is refused and records nothing.
        case concurrentFinishesAreAllRecorded
        /// After close, reads, claims and finishes throw
        /// ``/KafkaOnce/DeduplicationStoreError/Code/closed``.
        case closedStoreRefusesCalls

        /// The behaviour as a sentence.
        public var description: String {
            switch self {
            case .acquireStartsNewEpochs: "acquire starts each partition at epoch 1 and adds 1 each time"
            case .claimAcquiresNewKeys: "claim acquires new keys and records them in progress"
            case .claimRepeatsOwnClaims: "claim acquires again a key the same fence already holds"
            case .claimSkipsCompletedKeys: "claim reports a completed key with its stored result"
            case .claimSkipsFailedKeys: "claim reports a failed key with its reason"
            case .claimReportsConflicts: "claim reports a key with another fingerprint as a conflict"
            case .claimReportsBusyKeys: "claim reports a key held by another partition's live lease as busy"
            case .claimTakesOverStaleEpochs: "claim takes over a key held under an older epoch"
            case .claimTakesOverExpiredLeases: "claim takes over a key whose lease expired"
            case .staleFencesAreRefused: "claim and finish refuse a stale fence"
            case .finishRecordsOutcomes: "finish records completed and failed outcomes"
            case .releaseGivesUpOnlyItsOwnClaims: "release deletes only the claims its own fence holds"
            case .forgetDeletesOneRecord: "forget deletes one key's record"
            case .purgeDeletesOldFinishedRecordsInBatches: "purge deletes old finished records in batches"
            case .statisticsCountRecordsByState: "statistics count records by state"
            case .finishedKeysIgnoreInProgressKeys: "finishedKeys reports completed and failed keys only"
            case .concurrentFinishesAreAllRecorded: "concurrent finishes of many partitions are all recorded"
            case .closedStoreRefusesCalls: "a closed store refuses calls"
            }
        }
    }

    /// Checks every behaviour, each on a fresh store.
    ///
    /// - Throws: ``ConformanceFailure`` for the first behaviour that fails.
    public static func check(_ makeStore: @Sendable () async throws -> any DeduplicationStore) async throws {
        for behaviour in Behaviour.allCases {
            try await check(behaviour, makeStore)
        }
    }

    /// Checks one behaviour on a fresh store, and closes the store.
    ///
    /// - Throws: ``ConformanceFailure`` naming the behaviour and what the store did.
    public static func check(
        _ behaviour: Behaviour,
        _ makeStore: @Sendable () async throws -> any DeduplicationStore
    ) async throws {
        let store = try await makeStore()
        let fixture = Fixture(store: store, behaviour: behaviour)
        do {
            try await fixture.run()
        } catch let failure as ConformanceFailure {
            try? await store.close()
            throw failure
        } catch {
            try? await store.close()
            throw ConformanceFailure(behaviour: behaviour, detail: "the store threw \(error)")
        }
        if behaviour != .closedStoreRefusesCalls {
            try await store.close()
        }
    }
}

/// A store that does not keep the contract: which behaviour failed, and what the store did.
public struct ConformanceFailure: Error, CustomStringConvertible {
    /// The behaviour that failed.
    public var behaviour: DeduplicationStoreConformance.Behaviour
    /// What the check expected and what it saw.
    public var detail: String

    /// Describes a failure of `behaviour`.
    public init(behaviour: DeduplicationStoreConformance.Behaviour, detail: String) {
        self.behaviour = behaviour
        self.detail = detail
    }

    /// The behaviour and the detail, in one line.
    public var description: String {
        "the store does not conform: \(behaviour.rawValue) (\(behaviour)): \(detail)"
    }
}

// MARK: - The checks

/// One behaviour's check on one store.
private struct Fixture {
    let store: any DeduplicationStore
    let behaviour: DeduplicationStoreConformance.Behaviour

    static let topic = "conformance-orders"
    static let lease = Duration.seconds(60)

    func run() async throws {
        switch behaviour {
        case .acquireStartsNewEpochs: try await acquireStartsNewEpochs()
        case .claimAcquiresNewKeys: try await claimAcquiresNewKeys()
        case .claimRepeatsOwnClaims: try await claimRepeatsOwnClaims()
        case .claimSkipsCompletedKeys: try await claimSkipsCompletedKeys()
        case .claimSkipsFailedKeys: try await claimSkipsFailedKeys()
        case .claimReportsConflicts: try await claimReportsConflicts()
        case .claimReportsBusyKeys: try await claimReportsBusyKeys()
        case .claimTakesOverStaleEpochs: try await claimTakesOverStaleEpochs()
        case .claimTakesOverExpiredLeases: try await claimTakesOverExpiredLeases()
        case .staleFencesAreRefused: try await staleFencesAreRefused()
        case .finishRecordsOutcomes: try await finishRecordsOutcomes()
        case .releaseGivesUpOnlyItsOwnClaims: try await releaseGivesUpOnlyItsOwnClaims()
        case .forgetDeletesOneRecord: try await forgetDeletesOneRecord()
        case .purgeDeletesOldFinishedRecordsInBatches: try await purgeDeletesOldFinishedRecordsInBatches()
        case .statisticsCountRecordsByState: try await statisticsCountRecordsByState()
        case .finishedKeysIgnoreInProgressKeys: try await finishedKeysIgnoreInProgressKeys()
        case .concurrentFinishesAreAllRecorded: try await concurrentFinishesAreAllRecorded()
        case .closedStoreRefusesCalls: try await closedStoreRefusesCalls()
        }
    }

    private func acquireStartsNewEpochs() async throws {
        let first = try await store.acquire([partition(0), partition(1)], owner: "owner-a")
        try expect(first == [partition(0): 1, partition(1): 1], "the first acquire returned \(first)")
        let second = try await store.acquire([partition(0)], owner: "owner-b")
        try expect(second == [partition(0): 2], "acquiring again returned \(second)")
    }

    private func claimAcquiresNewKeys() async throws {
        let fence = try await acquire(0)
        let before = Date()
        let outcomes = try await claim([request("a", offset: 1), request("b", offset: 2)], fence: fence)
        try expect(outcomes == [.acquired, .acquired], "claiming two new keys returned \(outcomes)")

        let record = try await store.record(for: key("a"))
        try expect(
            record?.state == .inProgress && record?.owner == fence.owner && record?.epoch == fence.epoch
                && record?.origin == request("a", offset: 1).origin && record?.attempts == 0
                && (record?.leaseExpiry ?? .distantPast) > before,
            "after the claim the record is \(String(describing: record))"
        )
    }

    private func claimRepeatsOwnClaims() async throws {
        let fence = try await acquire(0)
        _ = try await claim([request("a")], fence: fence)
        let again = try await claim([request("a"), request("b")], fence: fence)
        try expect(again == [.acquired, .acquired], "claiming a held key again returned \(again)")
        let twice = try await claim([request("c"), request("c")], fence: fence)
        try expect(twice == [.acquired, .acquired], "claiming one key twice in a batch returned \(twice)")
    }

    private func claimSkipsCompletedKeys() async throws {
        let fence = try await acquire(0)
        _ = try await claim([request("a")], fence: fence)
        try await store.finish([completed("a", result: [1, 2, 3])], fence: fence)

        let outcomes = try await claim([request("a", offset: 9)], fence: fence)
        guard case .completed(let record) = outcomes.first, outcomes.count == 1 else {
            throw failure("claiming a completed key returned \(outcomes)")
        }
        try expect(
            record.result == [1, 2, 3],
            "the completed record carries the result \(String(describing: record.result))"
        )
    }

    private func claimSkipsFailedKeys() async throws {
        let fence = try await acquire(0)
        try await store.finish([failed("a", reason: "poison")], fence: fence)

        let outcomes = try await claim([request("a")], fence: fence)
        guard case .failed(let record) = outcomes.first, outcomes.count == 1 else {
            throw failure("claiming a failed key returned \(outcomes)")
        }
        try expect(
            record.failureReason == "poison",
            "the failed record says \(String(describing: record.failureReason))"
        )
    }

    private func claimReportsConflicts() async throws {
        let fence = try await acquire(0)
        try await store.finish([completed("done", payload: "one")], fence: fence)
        _ = try await claim([request("held", payload: "one")], fence: fence)

        let outcomes = try await claim(
            [request("done", payload: "two"), request("held", payload: "two")],
            fence: fence
        )
        guard outcomes.count == 2, case .conflict(let done) = outcomes[0], case .conflict(let held) = outcomes[1]
        else {
            throw failure("claiming two keys with other payloads returned \(outcomes)")
        }
        let original = MessageFingerprint(payload: Array("one".utf8))
        try expect(
            done.fingerprint == original && held.fingerprint == original,
            "the conflicts carry \(outcomes)"
        )
        let kept = try await store.record(for: key("done"))
        try expect(
            kept?.fingerprint == original && kept?.state == .completed,
            "after the conflict the record is \(String(describing: kept))"
        )
    }

    private func claimReportsBusyKeys() async throws {
        let first = try await acquire(0)
        let second = try await acquire(1, owner: "owner-b")
        _ = try await claim([request("a", partition: 0)], fence: first)

        let outcomes = try await claim([request("a", partition: 1)], fence: second)
        guard case .busy(let record) = outcomes.first, outcomes.count == 1 else {
            throw failure("claiming a key another partition holds returned \(outcomes)")
        }
        try expect(record.owner == first.owner, "the busy record belongs to \(record.owner)")
    }

    private func claimTakesOverStaleEpochs() async throws {
        let old = try await acquire(0)
        _ = try await claim([request("a")], fence: old)
        let new = try await acquire(0, owner: "owner-b")

        let outcomes = try await claim([request("a")], fence: new)
        guard case .abandoned(let previous) = outcomes.first, outcomes.count == 1 else {
            throw failure("claiming a key held under an older epoch returned \(outcomes)")
        }
        try expect(
            previous.epoch == old.epoch && previous.owner == old.owner,
            "the abandoned record is \(previous)"
        )
        let record = try await store.record(for: key("a"))
        try expect(
            record?.state == .inProgress && record?.epoch == new.epoch && record?.owner == new.owner,
            "after the takeover the record is \(String(describing: record))"
        )
    }

    private func claimTakesOverExpiredLeases() async throws {
        let first = try await acquire(0)
        let second = try await acquire(1, owner: "owner-b")
        _ = try await claim([request("a", partition: 0)], fence: first, leaseDuration: .zero)
        try await Task.sleep(for: .milliseconds(20))

        let outcomes = try await claim([request("a", partition: 1)], fence: second)
        guard case .abandoned(let previous) = outcomes.first, outcomes.count == 1 else {
            throw failure("claiming a key whose lease expired returned \(outcomes)")
        }
        try expect(previous.owner == first.owner, "the abandoned record belongs to \(previous.owner)")
        let record = try await store.record(for: key("a"))
        try expect(
            record?.owner == second.owner,
            "after the takeover the record is \(String(describing: record))"
        )

        let again = try await claim([request("a", partition: 1)], fence: second)
        try expect(again == [.acquired], "claiming again a key taken over returned \(again)")
    }

    private func staleFencesAreRefused() async throws {
        let old = try await acquire(0)
        let new = try await acquire(0, owner: "owner-b")

        try await expectFenced("a claim under an older epoch") {
            _ = try await claim([request("a")], fence: old)
        }
        try await expectFenced("a finish under an older epoch") {
            try await store.finish([completed("b")], fence: old)
        }
        let zombie = try await store.record(for: key("b"))
        try expect(zombie == nil, "a refused finish left the record \(String(describing: zombie))")

        let impostor = PartitionFence(partition: partition(0), owner: "owner-c", epoch: new.epoch)
        try await expectFenced("a claim by another owner at the current epoch") {
            _ = try await claim([request("a")], fence: impostor)
        }
        let unknown = PartitionFence(partition: partition(7), owner: "owner-a", epoch: 1)
        try await expectFenced("a claim on a partition never acquired") {
            _ = try await claim([request("a", partition: 7)], fence: unknown)
        }
    }

    private func finishRecordsOutcomes() async throws {
        let fence = try await acquire(0)
        _ = try await claim([request("a"), request("b")], fence: fence)
        try await store.finish(
            [
                completed("a", result: [9]), failed("b", reason: "bad"), completed("c", result: nil),
                completed("d", result: []),
            ],
            fence: fence
        )

        let a = try await store.record(for: key("a"))
        try expect(
            a?.state == .completed && a?.result == [9] && a?.attempts == 2 && a?.owner == fence.owner
                && a?.epoch == fence.epoch && a?.failureReason == nil,
            "a completed outcome was recorded as \(String(describing: a))"
        )
        let b = try await store.record(for: key("b"))
        try expect(
            b?.state == .failed && b?.failureReason == "bad",
            "a failed outcome was recorded as \(String(describing: b))"
        )
        let c = try await store.record(for: key("c"))
        try expect(
            c?.state == .completed && c?.result == nil,
            "an outcome without a claim or a result was recorded as \(String(describing: c))"
        )
        let d = try await store.record(for: key("d"))
        try expect(d?.result == [], "an empty result was recorded as \(String(describing: d?.result))")
    }

    private func releaseGivesUpOnlyItsOwnClaims() async throws {
        let old = try await acquire(0)
        let other = try await acquire(1, owner: "owner-b")
        _ = try await claim([request("a"), request("b"), request("c")], fence: old)
        try await store.finish([completed("b")], fence: old)
        _ = try await claim([request("d", partition: 1)], fence: other)

        try await store.release(["a", "b", "d", "never-claimed"].map(key), fence: old)
        let a = try await store.record(for: key("a"))
        try expect(a == nil, "a released claim left the record \(String(describing: a))")
        let b = try await store.record(for: key("b"))
        try expect(b?.state == .completed, "release changed a completed record to \(String(describing: b))")
        let d = try await store.record(for: key("d"))
        try expect(
            d?.state == .inProgress && d?.owner == other.owner && d?.epoch == other.epoch,
            "release changed another partition's claim to \(String(describing: d))"
        )
        let statistics = try await store.statistics()
        try expect(
            statistics.inProgress == 2 && statistics.completed == 1 && statistics.failed == 0,
            "after the release the store holds \(statistics)"
        )

        // A new epoch of the partition: the old fence is stale, and its claim of c is not the new one's.
        let new = try await acquire(0, owner: "owner-b")
        try await expectFenced("a release under an older epoch") {
            try await store.release([key("c")], fence: old)
        }
        try await store.release([key("c")], fence: new)
        let c = try await store.record(for: key("c"))
        try expect(
            c?.state == .inProgress && c?.epoch == old.epoch && c?.owner == old.owner,
            "a release refused, or under another epoch, changed the claim to \(String(describing: c))"
        )

        let outcomes = try await claim([request("a"), request("c")], fence: new)
        guard outcomes.count == 2, outcomes[0] == .acquired, case .abandoned(let previous) = outcomes[1] else {
            throw failure("a new epoch claiming a released key and a kept one got \(outcomes)")
        }
        try expect(previous.epoch == old.epoch, "the kept claim was abandoned by \(previous)")
    }

    private func forgetDeletesOneRecord() async throws {
        let fence = try await acquire(0)
        try await store.finish([completed("a"), completed("b")], fence: fence)

        let forgotten = try await store.forget(key("a"))
        let gone = try await store.record(for: key("a"))
        let kept = try await store.record(for: key("b"))
        try expect(
            forgotten && gone == nil && kept != nil,
            "forget returned \(forgotten), then a is \(String(describing: gone))"
        )
        let again = try await store.forget(key("a"))
        try expect(!again, "forgetting a missing key returned true")
    }

    private func purgeDeletesOldFinishedRecordsInBatches() async throws {
        let fence = try await acquire(0)
        try await store.finish((0..<25).map { completed("old-\($0)") }, fence: fence)
        _ = try await claim([request("claimed-early")], fence: fence)
        try await Task.sleep(for: .milliseconds(20))
        let cutoff = Date()
        try await Task.sleep(for: .milliseconds(20))
        try await store.finish((0..<5).map { completed("new-\($0)") }, fence: fence)

        let purged = try await store.purge(updatedBefore: cutoff, batchSize: 10)
        try expect(purged == 25, "purging 25 old records with batches of 10 deleted \(purged)")
        let statistics = try await store.statistics()
        try expect(
            statistics.completed == 5 && statistics.inProgress == 1,
            "after the purge the store holds \(statistics)"
        )
        let again = try await store.purge(updatedBefore: cutoff, batchSize: 10)
        try expect(again == 0, "purging again deleted \(again)")
    }

    private func statisticsCountRecordsByState() async throws {
        let empty = try await store.statistics()
        try expect(
            empty.total == 0 && empty.oldestUpdate == nil && empty.newestUpdate == nil,
            "an empty store counts \(empty)"
        )

        let fence = try await acquire(0)
        _ = try await claim([request("p1"), request("p2")], fence: fence)
        try await store.finish(
            [completed("c1"), completed("c2"), completed("c3"), failed("f1")],
            fence: fence
        )
        let statistics = try await store.statistics()
        try expect(
            statistics.inProgress == 2 && statistics.completed == 3 && statistics.failed == 1,
            "2 in progress, 3 completed and 1 failed are counted as \(statistics)"
        )
        guard let oldest = statistics.oldestUpdate, let newest = statistics.newestUpdate, oldest <= newest
        else {
            throw failure("the update times are \(statistics)")
        }
    }

    private func finishedKeysIgnoreInProgressKeys() async throws {
        let fence = try await acquire(0)
        _ = try await claim([request("running")], fence: fence)
        try await store.finish([completed("done"), failed("dead")], fence: fence)

        let keys = ["done", "dead", "running", "unknown", "done"].map(key)
        let finished = try await store.finishedKeys(among: keys)
        try expect(finished == [key("done"), key("dead")], "finishedKeys returned \(finished)")
    }

    private func concurrentFinishesAreAllRecorded() async throws {
        // Eight partitions, and a zombie: partition 0 under the epoch it held before its last acquire.
        let partitions = (0..<8).map { partition(Int32($0)) }
        let epochs = try await store.acquire(partitions, owner: "owner-a")
        let current = try await store.acquire([partitions[0]], owner: "owner-a")
        let latest = epochs.merging(current) { _, newer in newer }
        let fences = partitions.map { PartitionFence(partition: $0, owner: "owner-a", epoch: latest[$0] ?? 0) }
        let zombie = PartitionFence(partition: partitions[0], owner: "owner-a", epoch: 1)

        let store = self.store
        let refused = try await withThrowingTaskGroup(of: Bool.self) { group in
            for fence in fences {
                group.addTask {
                    let outcomes = (0..<25).map {
                        completed("p\(fence.partition.partition)-\($0)", partition: fence.partition.partition)
                    }
                    try await store.finish(outcomes, fence: fence)
                    return false
                }
            }
            group.addTask {
                do {
                    try await store.finish([completed("zombie")], fence: zombie)
                    return false
                } catch let error as DeduplicationStoreError where error.code == .fenced {
                    return true
                }
            }
            return try await group.reduce(false) { $0 || $1 }
        }
        try expect(refused, "a finish with a stale fence, among concurrent ones, was accepted")

        for fence in fences {
            for index in 0..<25 {
                let record = try await store.record(for: key("p\(fence.partition.partition)-\(index)"))
                try expect(
                    record?.state == .completed,
                    "a concurrent finish left the record \(String(describing: record))"
                )
            }
        }
        let zombieRecord = try await store.record(for: key("zombie"))
        try expect(
            zombieRecord == nil,
            "the refused finish left the record \(String(describing: zombieRecord))"
        )
    }

    private func closedStoreRefusesCalls() async throws {
        let fence = try await acquire(0)
        try await store.close()

        for (call, attempt) in [
            ("record(for:)", { _ = try await store.record(for: key("a")) }),
            ("claim", { _ = try await claim([request("a")], fence: fence) }),
            ("finish", { try await store.finish([completed("a")], fence: fence) }),
        ] as [(String, () async throws -> Void)] {
            do {
                try await attempt()
                throw failure("\(call) succeeded on a closed store")
            } catch let error as DeduplicationStoreError where error.code == .closed {
                continue
            } catch let failure as ConformanceFailure {
                throw failure
            } catch {
                throw failure("\(call) on a closed store threw \(error) instead of a closed error")
            }
        }
    }

    // MARK: - Helpers

    private func claim(
        _ requests: [ClaimRequest],
        fence: PartitionFence,
        leaseDuration: Duration = Self.lease
    ) async throws -> [ClaimOutcome] {
        try await store.claim(requests, fence: fence, leaseDuration: leaseDuration)
    }

    private func partition(_ number: Int32) -> KafkaTopicPartition {
        KafkaTopicPartition(topic: Self.topic, partition: number)
    }

    private func acquire(_ number: Int32, owner: String = "owner-a") async throws -> PartitionFence {
        let epochs = try await store.acquire([partition(number)], owner: owner)
        guard let epoch = epochs[partition(number)] else {
            throw failure("acquiring \(partition(number)) returned \(epochs)")
        }
        return PartitionFence(partition: partition(number), owner: owner, epoch: epoch)
    }

    private func failure(_ detail: String) -> ConformanceFailure {
        ConformanceFailure(behaviour: behaviour, detail: detail)
    }

    private func expect(_ condition: Bool, _ detail: @autoclosure () -> String) throws {
        guard condition else { throw failure(detail()) }
    }

    private func expectFenced(_ call: String, _ attempt: () async throws -> Void) async throws {
        do {
            try await attempt()
        } catch let error as DeduplicationStoreError where error.code == .fenced {
            return
        } catch {
            throw failure("\(call) threw \(error) instead of a fenced error")
        }
        throw failure("\(call) was accepted")
    }
}

// MARK: - Requests and outcomes

private func key(_ name: String) -> String {
    "conformance/\(name)"
}

private func request(
    _ name: String,
    payload: String = "payload",
    partition: Int32 = 0,
    offset: Int64 = 0
) -> ClaimRequest {
    ClaimRequest(
        key: key(name),
        fingerprint: MessageFingerprint(payload: Array(payload.utf8)),
        origin: KafkaTopicPartitionOffset(topic: Fixture.topic, partition: partition, offset: offset)
    )
}

private func completed(
    _ name: String,
    payload: String = "payload",
    result: [UInt8]? = [1],
    partition: Int32 = 0
) -> RecordedOutcome {
    RecordedOutcome(
        key: key(name),
        fingerprint: MessageFingerprint(payload: Array(payload.utf8)),
        origin: KafkaTopicPartitionOffset(topic: Fixture.topic, partition: partition, offset: 0),
        kind: .completed(result: result),
        attempts: 2
    )
}

private func failed(_ name: String, reason: String = "always throws") -> RecordedOutcome {
    RecordedOutcome(
        key: key(name),
        fingerprint: MessageFingerprint(payload: Array("payload".utf8)),
        origin: KafkaTopicPartitionOffset(topic: Fixture.topic, partition: 0, offset: 0),
        kind: .failed(reason: reason),
        attempts: 3
    )
}
