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
    public init(capacity: Int = 1_000_000) {
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
                let (outcome, claimed) = ClaimRules.decide(
                    request,
                    existing: state.records[request.key],
                    fence: fence,
                    now: now
                )
                if claimed {
                    state.records[request.key] = ClaimRules.inProgressRecord(
                        for: request,
                        fence: fence,
                        previous: state.records[request.key],
                        leaseExpiry: leaseExpiry,
                        now: now
                    )
                }
                return outcome
            }
        }
    }

    public func finish(_ outcomes: [RecordedOutcome], fence: PartitionFence) async throws {
        let now = Date()
        try state.withLock { state in
            try Self.check(fence, in: state)
            for outcome in outcomes {
                let previous = state.records[outcome.key]
                if previous == nil || previous?.state == .inProgress { state.finishedCount += 1 }
                state.records[outcome.key] = ClaimRules.finishedRecord(
                    outcome,
                    fence: fence,
                    previous: previous,
                    now: now
                )
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

    /// Drops the records finished longest ago until at most `capacity` finished records remain.
    private static func evict(_ state: inout State, capacity: Int) {
        while state.finishedCount > capacity && state.finishOrderStart < state.finishOrder.count {
            let (key, updatedAt) = state.finishOrder[state.finishOrderStart]
            state.finishOrderStart += 1
            if let record = state.records[key], record.state != .inProgress, record.updatedAt == updatedAt {
                state.records[key] = nil
                state.finishedCount -= 1
            }
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
