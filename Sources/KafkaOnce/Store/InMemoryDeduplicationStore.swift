import Synchronization

import struct Foundation.Date

/// A deduplication store in memory: for tests, demos and consumers whose effects are themselves
/// idempotent. Nothing survives the process.
///
/// The store is bounded: beyond about `capacity` finished records, the ones recorded longest ago
/// are dropped first, and a dropped key is processed again if redelivered. In-progress claims are
/// never dropped. ``purge(updatedBefore:batchSize:)`` applies a time-to-live on top. A record
/// takes about 150 bytes beside its key.
///
/// From a capacity of 8,192 up, records are spread by key over shards (one per 4,096 records of
/// capacity, at most 16), each behind a lock of its own, so that partitions recording outcomes at
/// the same time rarely wait for each other; claims of several keys take turns, so that each is
/// atomic towards the others (``DeduplicationStore/claim(_:fence:leaseDuration:)``). Each shard keeps an equal share of the capacity and drops its
/// own oldest records, so the dropping order is oldest-first per shard rather than across the
/// store, and a store whose keys fall unevenly on the shards drops some records a little early.
public final class InMemoryDeduplicationStore: DeduplicationStore {
    private struct Partitions {
        var epochs: [KafkaTopicPartition: (owner: String, epoch: Int64)] = [:]
        var isClosed = false
    }

    private final class Shard: Sendable {
        let records = Mutex(InMemoryRecordTable())
    }

    /// The most finished records kept.
    public let capacity: Int
    private let shardCapacity: Int
    private let shards: [Shard]
    private let partitions = Mutex(Partitions())
    /// Taken by every claim of several keys across shards, so that no two of them interleave
    /// (``claimAtomically(keyCount:_:)``).
    private let multiKeyClaims = Mutex(())

    /// Creates an empty store that keeps at most `capacity` finished records.
    public init(capacity: Int = 100_000) {
        precondition(capacity > 0, "an in-memory store needs a capacity of at least one record")
        self.capacity = capacity
        let shardCount = min(16, max(1, capacity / 4096))
        self.shardCapacity = (capacity + shardCount - 1) / shardCount
        self.shards = (0..<shardCount).map { _ in Shard() }
    }

    public func acquire(_ partitions: [KafkaTopicPartition], owner: String) async throws -> [KafkaTopicPartition: Int64]
    {
        try self.partitions.withLock { state in
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
        var outcomes = [ClaimOutcome](repeating: .acquired, count: requests.count)
        try claimAtomically(keyCount: requests.count) {
            try forEachShard(of: requests, key: \.key, fence: fence) { records, position in
                outcomes[position] = records.claim(requests[position], fence: fence, leaseExpiry: leaseExpiry, now: now)
            } finally: { _ in
            }
        }
        return outcomes
    }

    public func finish(_ outcomes: [RecordedOutcome], fence: PartitionFence) async throws {
        let now = Date()
        let capacity = shardCapacity
        try forEachShard(of: outcomes, key: \.key, fence: fence) { records, position in
            records.finish(outcomes[position], fence: fence, now: now)
        } finally: { records in
            records.evict(toCapacity: capacity)
        }
    }

    /// Deletes the keys' records that are in progress under exactly `fence`; see
    /// ``DeduplicationStore/release(_:fence:)``.
    ///
    /// - Throws: ``DeduplicationStoreError/Code/fenced`` when `fence` is stale.
    public func release(_ keys: [String], fence: PartitionFence) async throws {
        try forEachShard(of: keys, key: { $0 }, fence: fence) { records, position in
            records.release(keys[position], fence: fence)
        } finally: { _ in
        }
    }

    public func record(for key: String) async throws -> DeduplicationRecord? {
        try ensureOpen()
        return shard(of: key).records.withLock { $0.record(for: key) }
    }

    @discardableResult
    public func forget(_ key: String) async throws -> Bool {
        try ensureOpen()
        return shard(of: key).records.withLock { $0.remove(key) }
    }

    public func purge(updatedBefore cutoff: Date, batchSize: Int) async throws -> Int {
        guard batchSize > 0 else {
            throw DeduplicationStoreError(.invalidArgument, "a purge batch needs at least one record, not \(batchSize)")
        }
        try ensureOpen()
        var removed = 0
        for shard in shards {
            while true {
                // One batch per lock, so claims from running partitions interleave with a long purge.
                let count = shard.records.withLock { records in
                    let expired = Array(
                        records.records.lazy
                            .filter { $0.state != .inProgress && $0.updatedAt < cutoff }
                            .prefix(batchSize)
                            .map(\.key)
                    )
                    for key in expired { _ = records.remove(key) }
                    return expired.count
                }
                removed += count
                if count < batchSize { break }
            }
        }
        return removed
    }

    public func statistics() async throws -> DeduplicationStoreStatistics {
        try ensureOpen()
        var counts: [DeduplicationRecord.State: Int] = [:]
        var oldest: Date?
        var newest: Date?
        for shard in shards {
            shard.records.withLock { records in
                for record in records.records {
                    counts[record.state, default: 0] += 1
                    oldest = min(oldest ?? record.updatedAt, record.updatedAt)
                    newest = max(newest ?? record.updatedAt, record.updatedAt)
                }
            }
        }
        return DeduplicationStoreStatistics(
            inProgress: counts[.inProgress] ?? 0,
            completed: counts[.completed] ?? 0,
            failed: counts[.failed] ?? 0,
            oldestUpdate: oldest,
            newestUpdate: newest
        )
    }

    public func finishedKeys(among keys: [String]) async throws -> Set<String> {
        try ensureOpen()
        return Set(
            keys.filter { key in
                shard(of: key).records.withLock { $0.record(for: key).map { $0.state != .inProgress } ?? false }
            }
        )
    }

    public func close() async throws {
        partitions.withLock { $0.isClosed = true }
    }

    // MARK: - Shards and fences

    /// Runs a claim so that no other claim of several keys interleaves with it.
    ///
    /// A claim of several keys takes their shards' locks one after another. Two such claims of
    /// overlapping keys at once could each win part of them; each partition would then wait for a
    /// key the other holds, unstarted, until its lease expired. Claims of several keys therefore
    /// take turns. A claim of one key takes one lock and is atomic already.
    private func claimAtomically(keyCount: Int, _ body: () throws -> Void) throws {
        guard keyCount > 1, shards.count > 1 else { return try body() }
        try multiKeyClaims.withLock { _ in try body() }
    }

    /// Runs `body` for each element of `elements`, with the shard of its key locked, then
    /// `finally` once per shard visited before its lock is released; checks `fence` inside each
    /// shard's lock first, so nothing is written under a fence that a new owner's
    /// ``acquire(_:owner:)`` has already replaced.
    ///
    /// - Throws: ``DeduplicationStoreError/Code/fenced`` from the first shard that finds the
    ///   fence stale; shards visited before it keep what they wrote.
    private func forEachShard<Element>(
        of elements: [Element],
        key: (Element) -> String,
        fence: PartitionFence,
        _ body: (inout InMemoryRecordTable, Int) -> Void,
        finally: (inout InMemoryRecordTable) -> Void
    ) throws {
        guard !elements.isEmpty else { return try check(fence) }
        // One shard, or one key (each outcome of a partition recorded on its own): one lock, no grouping.
        if shards.count == 1 || elements.count == 1 {
            return try shards[shardIndex(of: key(elements[0]))].records.withLock { records in
                try check(fence)
                for position in elements.indices { body(&records, position) }
                finally(&records)
            }
        }
        var positions = [[Int]](repeating: [], count: shards.count)
        for (position, element) in elements.enumerated() {
            positions[shardIndex(of: key(element))].append(position)
        }
        for (index, shardPositions) in positions.enumerated() where !shardPositions.isEmpty {
            try shards[index].records.withLock { records in
                try check(fence)
                for position in shardPositions { body(&records, position) }
                finally(&records)
            }
        }
    }

    private func shard(of key: String) -> Shard {
        shards[shardIndex(of: key)]
    }

    /// FNV-1a of the key's bytes: cheap, and stable for the store's life.
    private func shardIndex(of key: String) -> Int {
        guard shards.count > 1 else { return 0 }
        var hash: UInt32 = 2_166_136_261
        for byte in key.utf8 {
            hash = (hash ^ UInt32(byte)) &* 16_777_619
        }
        return Int(hash % UInt32(shards.count))
    }

    private func ensureOpen() throws {
        try partitions.withLock { try Self.ensureOpen($0) }
    }

    private static func ensureOpen(_ state: Partitions) throws {
        if state.isClosed {
            throw DeduplicationStoreError(.closed, "the in-memory store is closed; create a new one")
        }
    }

    private func check(_ fence: PartitionFence) throws {
        try partitions.withLock { state in
            try Self.ensureOpen(state)
            guard let current = state.epochs[fence.partition], current.epoch == fence.epoch,
                current.owner == fence.owner
            else {
                throw DeduplicationStoreError.fenced(fence, current: state.epochs[fence.partition]?.epoch)
            }
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
