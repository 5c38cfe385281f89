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

    /// Claims the key of `request` under `fence`, by ``ClaimRules``: a key without a record is
    /// acquired, and its in-progress slot is written without building a record first (the common
    /// case, one lookup); a key with a record is decided on that record.
    ///
    /// - Returns: What the claim found.
    mutating func claim(
        _ request: ClaimRequest,
        fence: PartitionFence,
        leaseExpiry: Date,
        now: Date
    ) -> ClaimOutcome {
        Self.claim(request, fence: fence, leaseExpiry: leaseExpiry, now: now, slot: &index[request.key], in: &storage)
    }

    private static func claim(
        _ request: ClaimRequest,
        fence: PartitionFence,
        leaseExpiry: Date,
        now: Date,
        slot number: inout Int32?,
        in storage: inout Storage
    ) -> ClaimOutcome {
        guard let existing = number else {
            number = storage.storeClaim(request, fence: fence, leaseExpiry: leaseExpiry, now: now)
            return .acquired
        }
        let record = storage.record(at: existing)
        let (outcome, claimed) = ClaimRules.decide(request, existing: record, fence: fence, now: now)
        if claimed {
            let claim = ClaimRules.inProgressRecord(
                for: request,
                fence: fence,
                previous: record,
                leaseExpiry: leaseExpiry,
                now: now
            )
            number = storage.store(claim, in: existing)
        }
        return outcome
    }

    /// Records `outcome` under `fence`: the record ``ClaimRules/finishedRecord(_:fence:previous:now:)``
    /// describes, written into the key's slot in place.
    mutating func finish(_ outcome: RecordedOutcome, fence: PartitionFence, now: Date) {
        let number = index[outcome.key]
        index[outcome.key] = storage.storeOutcome(outcome, fence: fence, in: number, now: now)
    }

    /// Removes the record of `key` if it is in progress under exactly `fence`: its partition,
    /// owner and epoch. Any other record stays.
    ///
    /// - Returns: Whether it was removed.
    @discardableResult
    mutating func release(_ key: String, fence: PartitionFence) -> Bool {
        guard let number = index[key], storage.isClaim(at: number, under: fence) else { return false }
        index[key] = nil
        storage.free(number)
        return true
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

        /// Writes `record` into slot `number`.
        ///
        /// - Returns: The slot's number.
        mutating func store(_ record: DeduplicationRecord, in number: Int32) -> Int32 {
            let origin = originNumber(
                Origin(owner: record.owner, topic: record.origin.topic, partition: record.origin.partition)
            )
            return write(Slot(record, origin: origin), in: number)
        }

        /// Writes the in-progress claim of a key that has no slot yet into a new one.
        ///
        /// - Returns: The slot's number.
        mutating func storeClaim(_ request: ClaimRequest, fence: PartitionFence, leaseExpiry: Date, now: Date) -> Int32
        {
            let origin = originNumber(
                Origin(owner: fence.owner, topic: request.origin.topic, partition: request.origin.partition)
            )
            let slot = Slot(
                key: request.key,
                fingerprint: request.fingerprint,
                offset: request.origin.offset,
                epoch: fence.epoch,
                createdAt: now,
                updatedAt: now,
                leaseExpiry: leaseExpiry,
                origin: origin,
                attempts: 0,
                generation: 0,
                state: .inProgress,
                isFree: false,
                detail: nil
            )
            return write(slot, in: nil)
        }

        /// Writes the record of `outcome` into slot `number`, keeping its creation time, or into a
        /// new slot when `nil`.
        ///
        /// - Returns: The slot's number.
        mutating func storeOutcome(
            _ outcome: RecordedOutcome,
            fence: PartitionFence,
            in number: Int32?,
            now: Date
        ) -> Int32 {
            let (state, detail): (DeduplicationRecord.State, Detail?) =
                switch outcome.kind {
                case .completed(let result): (.completed, result.map { Detail(result: $0, failureReason: nil) })
                case .failed(let reason): (.failed, Detail(result: nil, failureReason: reason))
                }
            let origin = originNumber(
                Origin(owner: fence.owner, topic: outcome.origin.topic, partition: outcome.origin.partition)
            )
            let slot = Slot(
                key: outcome.key,
                fingerprint: outcome.fingerprint,
                offset: outcome.origin.offset,
                epoch: fence.epoch,
                createdAt: number.map { slots[Int($0)].createdAt } ?? now,
                updatedAt: now,
                leaseExpiry: nil,
                origin: origin,
                attempts: Int32(clamping: outcome.attempts),
                generation: 0,
                state: state,
                isFree: false,
                detail: detail
            )
            return write(slot, in: number)
        }

        /// Writes `slot` into slot `number`, or into a new slot when `nil`, with the next
        /// generation, and keeps the finish order.
        ///
        /// - Returns: The slot's number.
        private mutating func write(_ slot: Slot, in number: Int32?) -> Int32 {
            let target = number ?? allocate()
            let previous = slots[Int(target)]
            slots[Int(target)] = slot
            slots[Int(target)].generation = previous.generation &+ 1
            let generation = slots[Int(target)].generation

            let wasFinished = !previous.isFree && previous.state != .inProgress
            let isFinished = slot.state != .inProgress
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

        /// Whether slot `number` holds a claim in progress under exactly `fence`.
        func isClaim(at number: Int32, under fence: PartitionFence) -> Bool {
            let slot = slots[Int(number)]
            guard !slot.isFree, slot.state == .inProgress, slot.epoch == fence.epoch else { return false }
            let origin = origins[Int(slot.origin)]
            return origin.owner == fence.owner && origin.topic == fence.partition.topic
                && origin.partition == fence.partition.partition
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

        private mutating func originNumber(_ origin: Origin) -> Int32 {
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

    init(_ record: DeduplicationRecord, origin: Int32) {
        self.init(
            key: record.key,
            fingerprint: record.fingerprint,
            offset: record.origin.offset,
            epoch: record.epoch,
            createdAt: record.createdAt,
            updatedAt: record.updatedAt,
            leaseExpiry: record.leaseExpiry,
            origin: origin,
            attempts: Int32(clamping: record.attempts),
            generation: 0,
            state: record.state,
            isFree: false,
            detail: record.result == nil && record.failureReason == nil
                ? nil : InMemoryRecordTable.Detail(result: record.result, failureReason: record.failureReason)
        )
    }
}
