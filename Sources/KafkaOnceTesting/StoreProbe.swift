import Foundation
import KafkaOnce
import Synchronization

/// Wraps a store under test: tracks which keys are durably recorded, for the check that no commit
/// passes an unrecorded message, and makes the store fail on demand, for outages.
@_spi(Testing)
public final class StoreProbe: TransactionalDeduplicationStore {
    let inner: any DeduplicationStore
    /// Keys whose record is known to be durable: finished through this probe, or found finished.
    public let durableKeys = Mutex<Set<String>>([])
    /// When set, every call fails with this error until it is cleared.
    public let failure = Mutex<DeduplicationStoreError?>(nil)
    private let outageUntil = Mutex<ContinuousClock.Instant?>(nil)
    private let savepointOutageUntil = Mutex<ContinuousClock.Instant?>(nil)

    /// Wraps `inner`, which transactional consumers need to be a transactional store.
    public init(_ inner: any DeduplicationStore) {
        self.inner = inner
    }

    /// Makes every call fail as unavailable for `duration`.
    public func startOutage(for duration: Duration) {
        outageUntil.withLock { $0 = ContinuousClock.now + duration }
    }

    /// Makes the savepoints that handlers open in a transaction fail as unavailable for `duration`,
    /// while every other call succeeds: a store failing under the handler's feet.
    public func refuseSavepoints(for duration: Duration) {
        savepointOutageUntil.withLock { $0 = ContinuousClock.now + duration }
    }

    /// Throws while ``refuseSavepoints(for:)`` is in effect.
    fileprivate func checkSavepoint() throws {
        if let until = savepointOutageUntil.withLock({ $0 }), ContinuousClock.now < until {
            throw DeduplicationStoreError(.unavailable, "the store probe refused the savepoint")
        }
    }

    private func check() throws {
        if let error = failure.withLock({ $0 }) { throw error }
        if let until = outageUntil.withLock({ $0 }), ContinuousClock.now < until {
            throw DeduplicationStoreError(.unavailable, "the store probe made the store unavailable")
        }
    }

    /// The keys that `outcomes` found finished: recorded durably earlier.
    static func finishedKeys(_ requests: [ClaimRequest], _ outcomes: [ClaimOutcome]) -> [String] {
        zip(requests, outcomes).compactMap { request, outcome -> String? in
            switch outcome {
            case .completed, .failed: request.key
            default: nil
            }
        }
    }

    public func acquire(_ partitions: [KafkaTopicPartition], owner: String) async throws -> [KafkaTopicPartition: Int64]
    {
        try check()
        return try await inner.acquire(partitions, owner: owner)
    }

    public func claim(
        _ requests: [ClaimRequest],
        fence: PartitionFence,
        leaseDuration: Duration
    ) async throws
        -> [ClaimOutcome]
    {
        try check()
        let outcomes = try await inner.claim(requests, fence: fence, leaseDuration: leaseDuration)
        let finished = Self.finishedKeys(requests, outcomes)
        durableKeys.withLock { $0.formUnion(finished) }
        return outcomes
    }

    public func finish(_ outcomes: [RecordedOutcome], fence: PartitionFence) async throws {
        try check()
        try await inner.finish(outcomes, fence: fence)
        durableKeys.withLock { $0.formUnion(outcomes.map(\.key)) }
    }

    public func release(_ keys: [String], fence: PartitionFence) async throws {
        try check()
        try await inner.release(keys, fence: fence)
    }

    public func withTransaction<Value: Sendable>(
        fence: PartitionFence,
        _ body: @escaping @Sendable (any DeduplicationTransaction) throws -> Value
    ) async throws -> Value {
        try check()
        guard let inner = inner as? any TransactionalDeduplicationStore else {
            throw DeduplicationStoreError(.invalidArgument, "the store under test has no transactions")
        }
        let finished = KeySet()
        let value = try await inner.withTransaction(fence: fence) { transaction in
            try body(ProbeTransaction(inner: transaction, finished: finished, probe: self))
        }
        durableKeys.withLock { $0.formUnion(finished.keys.withLock { $0 }) }
        return value
    }

    public func record(for key: String) async throws -> DeduplicationRecord? { try await inner.record(for: key) }
    public func forget(_ key: String) async throws -> Bool { try await inner.forget(key) }
    public func purge(updatedBefore cutoff: Date, batchSize: Int) async throws -> Int {
        try await inner.purge(updatedBefore: cutoff, batchSize: batchSize)
    }
    public func statistics() async throws -> DeduplicationStoreStatistics { try await inner.statistics() }
    public func finishedKeys(among keys: [String]) async throws -> Set<String> {
        try await inner.finishedKeys(among: keys)
    }
    public func close() async throws { try await inner.close() }
}

/// Forwards to the store's transaction, notes the keys it finishes, and refuses savepoints when
/// the probe says so.
private struct ProbeTransaction: DeduplicationTransaction {
    let inner: any DeduplicationTransaction
    let finished: KeySet
    let probe: StoreProbe

    func claim(_ requests: [ClaimRequest], leaseDuration: Duration) throws -> [ClaimOutcome] {
        let outcomes = try inner.claim(requests, leaseDuration: leaseDuration)
        let seen = StoreProbe.finishedKeys(requests, outcomes)
        finished.keys.withLock { $0.formUnion(seen) }
        return outcomes
    }

    func finish(_ outcomes: [RecordedOutcome]) throws {
        try inner.finish(outcomes)
        finished.keys.withLock { $0.formUnion(outcomes.map(\.key)) }
    }

    func savepoint(_ name: String) throws {
        try probe.checkSavepoint()
        try inner.savepoint(name)
    }
    func rollback(toSavepoint name: String) throws { try inner.rollback(toSavepoint: name) }
    func release(savepoint name: String) throws { try inner.release(savepoint: name) }
    func execute(_ sql: String, _ parameters: [SQLValue]) throws -> Int { try inner.execute(sql, parameters) }
    func query(_ sql: String, _ parameters: [SQLValue]) throws -> [SQLRow] { try inner.query(sql, parameters) }
}

/// Keys noted inside one transaction.
private final class KeySet: Sendable {
    let keys = Mutex<Set<String>>([])
}
