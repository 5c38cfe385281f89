import Synchronization

import struct Foundation.Date

/// A deduplication store in memory: for tests, demos and consumers whose effects are themselves
/// idempotent. Nothing survives the process.
///
/// The store is bounded: beyond `capacity` finished records, the ones recorded longest ago are
/// dropped first, and a dropped key is processed again if redelivered. In-progress claims are
/// never dropped. ``purge(updatedBefore:batchSize:)`` applies a time-to-live on top.
public final class InMemoryDeduplicationStore: DeduplicationStore {
    private struct State {
        var records: [String: DeduplicationRecord] = [:]
        var epochs: [KafkaTopicPartition: (owner: String, epoch: Int64)] = [:]
        /// Finished keys in the order they were recorded; entries may be stale (re-recorded or forgotten).
        var finishOrder: [(key: String, updatedAt: Date)] = []
        var finishOrderStart = 0
        var finishedCount = 0
        var isClosed = false
    }

    /// The most finished records kept.
    public let capacity: Int
    private let state = Mutex(State())

    /// Creates an empty store that keeps at most `capacity` finished records.
    public init(capacity: Int = 100_000) {
        precondition(capacity > 0, "an in-memory store needs a capacity of at least one record")
        self.capacity = capacity
    }

    public func acquire(_ partitions: [KafkaTopicPartition], owner: String) async throws -> [KafkaTopicPartition: Int64]
    {
        try state.withLock { state in
            try Self.ensureOpen(state)
            var epochs: [KafkaTopicPartition: Int64] = [:]
            for partition in partitions {
                let epoch = (state.epochs[partition]?.epoch ?? 0) + 1
                state.epochs[partition] = (owner, epoch)
                epochs[partition] = epoch
            }
            return epochs
        }
    }

    public func claim(
        _ requests: [ClaimRequest],
        fence: PartitionFence,
        leaseDuration: Duration
    ) async throws -> [ClaimOutcome] {
        let now = Date()
        let leaseExpiry = now.addingTimeInterval(leaseDuration.seconds)
        return try state.withLock { state in
            try Self.check(fence, in: state)
            return requests.map { request in
                // One hash lookup per key: the record is read and replaced in place.
                Self.claim(request, &state.records[request.key], fence: fence, leaseExpiry: leaseExpiry, now: now)
            }
        }
    }

    public func finish(_ outcomes: [RecordedOutcome], fence: PartitionFence) async throws {
        let now = Date()
        try state.withLock { state in
            try Self.check(fence, in: state)
            for outcome in outcomes {
                if Self.finish(outcome, &state.records[outcome.key], fence: fence, now: now) {
                    state.finishedCount += 1
                }
                state.finishOrder.append((outcome.key, now))
            }
            Self.evict(&state, capacity: capacity)
        }
    }

    public func record(for key: String) async throws -> DeduplicationRecord? {
        try state.withLock { state in
            try Self.ensureOpen(state)
            return state.records[key]
        }
    }

    @discardableResult
    public func forget(_ key: String) async throws -> Bool {
        try state.withLock { state in
            try Self.ensureOpen(state)
            guard let removed = state.records.removeValue(forKey: key) else { return false }
            if removed.state != .inProgress { state.finishedCount -= 1 }
            return true
        }
    }

    public func purge(updatedBefore cutoff: Date, batchSize: Int) async throws -> Int {
        guard batchSize > 0 else {
            throw DeduplicationStoreError(.invalidArgument, "a purge batch needs at least one record, not \(batchSize)")
        }
        var removed = 0
        while true {
            // One batch per lock, so claims from running partitions interleave with a long purge.
            let count = try state.withLock { state in
                try Self.ensureOpen(state)
                let expired = state.records.values.lazy
                    .filter { $0.state != .inProgress && $0.updatedAt < cutoff }
                    .prefix(batchSize)
                    .map(\.key)
                for key in Array(expired) {
                    state.records[key] = nil
                    state.finishedCount -= 1
                }
                return expired.count
            }
            removed += count
            if count < batchSize { return removed }
        }
    }

    public func statistics() async throws -> DeduplicationStoreStatistics {
        try state.withLock { state in
            try Self.ensureOpen(state)
            var counts: [DeduplicationRecord.State: Int] = [:]
            var oldest: Date?
            var newest: Date?
            for record in state.records.values {
                counts[record.state, default: 0] += 1
                oldest = min(oldest ?? record.updatedAt, record.updatedAt)
                newest = max(newest ?? record.updatedAt, record.updatedAt)
            }
            return DeduplicationStoreStatistics(
                inProgress: counts[.inProgress] ?? 0,
                completed: counts[.completed] ?? 0,
                failed: counts[.failed] ?? 0,
                oldestUpdate: oldest,
                newestUpdate: newest
            )
        }
    }

    public func finishedKeys(among keys: [String]) async throws -> Set<String> {
        try state.withLock { state in
            try Self.ensureOpen(state)
            return Set(keys.filter { state.records[$0].map { $0.state != .inProgress } ?? false })
        }
    }

    public func close() async throws {
        state.withLock { $0.isClosed = true }
    }

    // MARK: - Internals

    private static func ensureOpen(_ state: State) throws {
        if state.isClosed {
            throw DeduplicationStoreError(.closed, "the in-memory store is closed; create a new one")
        }
    }

    private static func check(_ fence: PartitionFence, in state: State) throws {
        try ensureOpen(state)
        guard let current = state.epochs[fence.partition], current.epoch == fence.epoch, current.owner == fence.owner
        else {
            throw DeduplicationStoreError.fenced(fence, current: state.epochs[fence.partition]?.epoch)
        }
    }

    private static func claim(
        _ request: ClaimRequest,
        _ record: inout DeduplicationRecord?,
        fence: PartitionFence,
        leaseExpiry: Date,
        now: Date
    ) -> ClaimOutcome {
        let (outcome, claimed) = ClaimRules.decide(request, existing: record, fence: fence, now: now)
        if claimed {
            record = ClaimRules.inProgressRecord(
                for: request,
                fence: fence,
                previous: record,
                leaseExpiry: leaseExpiry,
                now: now
            )
        }
        return outcome
    }

    /// Replaces `record` with the finished one.
    ///
    /// - Returns: Whether the key is newly finished (it had no record, or an in-progress one).
    private static func finish(
        _ outcome: RecordedOutcome,
        _ record: inout DeduplicationRecord?,
        fence: PartitionFence,
        now: Date
    ) -> Bool {
        let isNewlyFinished = record.map { $0.state == .inProgress } ?? true
        record = ClaimRules.finishedRecord(outcome, fence: fence, previous: record, now: now)
        return isNewlyFinished
    }

    /// Removes `record` when it is still the finished record that `updatedAt` names.
    ///
    /// - Returns: Whether it was removed.
    private static func evict(_ record: inout DeduplicationRecord?, finishedAt updatedAt: Date) -> Bool {
        guard let current = record, current.state != .inProgress, current.updatedAt == updatedAt else { return false }
        record = nil
        return true
    }

    /// Drops the records finished longest ago until at most `capacity` finished records remain.
    private static func evict(_ state: inout State, capacity: Int) {
        while state.finishedCount > capacity && state.finishOrderStart < state.finishOrder.count {
            let (key, updatedAt) = state.finishOrder[state.finishOrderStart]
            state.finishOrderStart += 1
            if evict(&state.records[key], finishedAt: updatedAt) { state.finishedCount -= 1 }
        }
        // Compact the order list once its consumed head dominates it.
        if state.finishOrderStart > 1024 && state.finishOrderStart * 2 > state.finishOrder.count {
            state.finishOrder.removeFirst(state.finishOrderStart)
            state.finishOrderStart = 0
        }
    }
}

extension DeduplicationStoreError {
    /// The error for a claim or record made under a stale fence.
    public static func fenced(_ fence: PartitionFence, current: Int64?) -> DeduplicationStoreError {
        DeduplicationStoreError(
            .fenced,
            "\(fence.partition) now belongs to another consumer (epoch \(current.map(String.init) ?? "none"), "
                + "this consumer holds \(fence.epoch)); its outcome was not recorded"
        )
    }
}
