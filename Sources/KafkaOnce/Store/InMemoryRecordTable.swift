import struct Foundation.Date

/// The records of an ``InMemoryDeduplicationStore``, kept compact.
///
/// Each key maps to a slot in one array of fixed-size entries; the owner and origin partition,
/// shared by many records, are stored once in ``origins`` and referred to by number. A key costs
/// its string, about 20 bytes of index and about 100 bytes of slot, whatever its record holds.
///
/// Not thread-safe: the store holds it behind its lock.
struct InMemoryRecordTable {
    /// A record without its key's string and shared strings.
    struct Slot {
        var key: String
        var fingerprint: MessageFingerprint
        var offset: Int64
        var epoch: Int64
        var createdAt: Date
        var updatedAt: Date
        var leaseExpiry: Date?
        /// The slot's number in ``origins``.
        var origin: Int32
        var attempts: Int32
        /// Changes whenever the slot is written, so an old entry of the finish order is recognised.
        var generation: UInt32
        var state: DeduplicationRecord.State
        var isFree: Bool
        /// The result or failure reason, which most records do not have.
        var detail: Detail?
    }

    /// What a record holds beyond the common fields.
    final class Detail: Sendable {
        let result: [UInt8]?
        let failureReason: String?

        init(result: [UInt8]?, failureReason: String?) {
            self.result = result
            self.failureReason = failureReason
        }
    }

    /// The owner and partition that records share.
    struct Origin: Hashable {
        var owner: String
        var topic: String
        var partition: Int32
    }

    /// Each key's slot number.
    private var index: [String: Int32] = [:]
    private var storage = Storage()

    // MARK: - Reading

    /// The record of `key`, if any.
    func record(for key: String) -> DeduplicationRecord? {
        index[key].map { storage.record(at: $0) }
    }

    /// Every record, in no particular order.
    var records: some Sequence<DeduplicationRecord> {
        storage.slots.indices.lazy.filter { !storage.slots[$0].isFree }.map { storage.record(at: Int32($0)) }
    }

    // MARK: - Writing

    /// Decides on the record of `key` (`nil` when there is none) and writes the replacement the
    /// decision returns, if any. The key is looked up once, whatever happens.
    ///
    /// - Returns: The decision's result.
    mutating func update<Result>(
        _ key: String,
        _ decide: (DeduplicationRecord?) -> (result: Result, replacement: DeduplicationRecord?)
    ) -> Result {
        Self.update(&index[key], in: &storage, key: key, decide)
    }

    private static func update<Result>(
        _ number: inout Int32?,
        in storage: inout Storage,
        key: String,
        _ decide: (DeduplicationRecord?) -> (result: Result, replacement: DeduplicationRecord?)
    ) -> Result {
        let (result, replacement) = decide(number.map { storage.record(at: $0) })
        if let replacement { number = storage.store(replacement, key: key, in: number) }
        return result
    }

    /// Drops the records finished longest ago until at most `capacity` finished records remain.
    mutating func evict(toCapacity capacity: Int) {
        while storage.finishedCount > capacity, let number = storage.takeOldestFinished() {
            index[storage.slots[Int(number)].key] = nil
            storage.free(number)
        }
    }

    /// Removes the record of `key`.
    ///
    /// - Returns: Whether there was one.
    mutating func remove(_ key: String) -> Bool {
        guard let number = index.removeValue(forKey: key) else { return false }
        storage.free(number)
        return true
    }
}

extension InMemoryRecordTable {
    /// The slots, and what is shared between them.
    private struct Storage {
        private(set) var slots: [Slot] = []
        private var freeSlots: [Int32] = []
        private var origins: [Origin] = []
        private var originNumbers: [Origin: Int32] = [:]
        private var lastOrigin: Int32?
        /// Finished slots in the order they were recorded, with the generation they had then.
        private var finishOrder: [(slot: Int32, generation: UInt32)] = []
        private var finishOrderStart = 0
        private(set) var finishedCount = 0

        func record(at number: Int32) -> DeduplicationRecord {
            let slot = slots[Int(number)]
            let origin = origins[Int(slot.origin)]
            return DeduplicationRecord(
                key: slot.key,
                fingerprint: slot.fingerprint,
                state: slot.state,
                owner: origin.owner,
                epoch: slot.epoch,
                origin: KafkaTopicPartitionOffset(
                    topic: origin.topic,
                    partition: origin.partition,
                    offset: slot.offset
                ),
                leaseExpiry: slot.leaseExpiry,
                result: slot.detail?.result,
                failureReason: slot.detail?.failureReason,
                attempts: Int(slot.attempts),
                createdAt: slot.createdAt,
                updatedAt: slot.updatedAt
            )
        }

        /// Writes `record` into slot `number`, or into a new slot when `nil`.
        ///
        /// - Returns: The slot's number.
        mutating func store(_ record: DeduplicationRecord, key: String, in number: Int32?) -> Int32 {
            let target = number ?? allocate()
            let previous = slots[Int(target)]
            let generation = previous.generation &+ 1
            slots[Int(target)] = Slot(record, key: key, origin: originNumber(record), generation: generation)

            let wasFinished = !previous.isFree && previous.state != .inProgress
            let isFinished = record.state != .inProgress
            finishedCount += (isFinished ? 1 : 0) - (wasFinished ? 1 : 0)
            if isFinished {
                finishOrder.append((target, generation))
                dropStaleEntriesIfMostlyStale()
            }
            return target
        }

        /// The slot finished longest ago that still holds that record, taken out of the order.
        mutating func takeOldestFinished() -> Int32? {
            defer { compactFinishOrder() }
            while finishOrderStart < finishOrder.count {
                let entry = finishOrder[finishOrderStart]
                finishOrderStart += 1
                if isCurrent(entry) { return entry.slot }
            }
            return nil
        }

        mutating func free(_ number: Int32) {
            let slot = slots[Int(number)]
            if slot.state != .inProgress { finishedCount -= 1 }
            slots[Int(number)] = Slot.free
            slots[Int(number)].generation = slot.generation &+ 1
            freeSlots.append(number)
        }

        private mutating func allocate() -> Int32 {
            if let number = freeSlots.popLast() { return number }
            slots.append(Slot.free)
            return Int32(slots.count - 1)
        }

        /// Drops the consumed head of the finish order once it dominates the list.
        private mutating func compactFinishOrder() {
            if finishOrderStart > 1024 && finishOrderStart * 2 > finishOrder.count {
                finishOrder.removeFirst(finishOrderStart)
                finishOrderStart = 0
            }
        }

        /// Drops the entries of slots written again or freed since they finished, once they
        /// outnumber the live ones: a table that stays under its capacity, whose records are
        /// purged or finished again, never reaches the eviction that would otherwise drop them.
        private mutating func dropStaleEntriesIfMostlyStale() {
            guard finishOrder.count - finishOrderStart > 2 * finishedCount + 1024 else { return }
            finishOrder = finishOrder[finishOrderStart...].filter(isCurrent)
            finishOrderStart = 0
        }

        /// Whether the slot of a finish-order entry still holds the record that finished, rather
        /// than having been written again, or freed, since.
        private func isCurrent(_ entry: (slot: Int32, generation: UInt32)) -> Bool {
            let slot = slots[Int(entry.slot)]
            return !slot.isFree && slot.generation == entry.generation && slot.state != .inProgress
        }

        private mutating func originNumber(_ record: DeduplicationRecord) -> Int32 {
            let origin = Origin(owner: record.owner, topic: record.origin.topic, partition: record.origin.partition)
            // Consecutive writes nearly always share their origin: compare before hashing.
            if let last = lastOrigin, origins[Int(last)] == origin { return last }
            let number = originNumbers[origin] ?? Int32(origins.count)
            if number == origins.count {
                origins.append(origin)
                originNumbers[origin] = number
            }
            lastOrigin = number
            return number
        }
    }
}

extension InMemoryRecordTable.Slot {
    static let free = Self(
        key: "",
        fingerprint: .tombstone,
        offset: 0,
        epoch: 0,
        createdAt: Date(timeIntervalSince1970: 0),
        updatedAt: Date(timeIntervalSince1970: 0),
        leaseExpiry: nil,
        origin: 0,
        attempts: 0,
        generation: 0,
        state: .inProgress,
        isFree: true,
        detail: nil
    )

    init(_ record: DeduplicationRecord, key: String, origin: Int32, generation: UInt32) {
        self.init(
            key: key,
            fingerprint: record.fingerprint,
            offset: record.origin.offset,
            epoch: record.epoch,
            createdAt: record.createdAt,
            updatedAt: record.updatedAt,
            leaseExpiry: record.leaseExpiry,
            origin: origin,
            attempts: Int32(clamping: record.attempts),
            generation: generation,
            state: record.state,
            isFree: false,
            detail: record.result == nil && record.failureReason == nil
                ? nil : InMemoryRecordTable.Detail(result: record.result, failureReason: record.failureReason)
        )
    }
}
