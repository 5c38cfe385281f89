/// The per-message contract for one partition: claim, handle, record, then make the offset
/// committable. Lives on its worker's task; nothing here is shared.
struct PartitionProcessor {
    let worker: PartitionWorker
    let context: RuntimeContext
    let fence: PartitionFence
    /// Outcomes handled but not yet recorded (only with ``OutcomeBatching/perBatch(maxMessages:)``).
    var pending: [RecordedOutcome] = []
    /// The last offset handled, recorded or not.
    var lastHandled: Int64?

    /// Starts a new epoch of the partition in the store, which fences out its previous owner.
    init(worker: PartitionWorker, context: RuntimeContext) async throws {
        self.worker = worker
        self.context = context
        let partition = worker.partition
        let owner = context.owner
        let epochs = try await StoreRetry.run("acquire", worker: worker, context: context) {
            try await context.store.acquire([partition], owner: owner)
        }
        guard let epoch = epochs[partition] else {
            throw EffectivelyOnceError(
                "the store returned no epoch for \(partition); the store implementation is faulty"
            )
        }
        self.fence = PartitionFence(partition: partition, owner: owner, epoch: epoch)
        context.logger.log(
            .debug,
            "partition acquired",
            metadata: ["kafka.partition": partition.description, "kafka_once.epoch": String(epoch)]
        )
    }

    var configuration: EffectivelyOnceConfiguration { context.configuration }
    var metrics: EffectivelyOnceMetrics { context.metrics }

    /// Processes one batch of the partition, in order.
    mutating func process(_ messages: [KafkaMessage]) async throws {
        let runs = PreparedMessage.runs(
            of: messages,
            keys: configuration.keys,
            namespace: configuration.keyNamespace,
            metrics: metrics
        )
        for run in runs {
            switch context.processing {
            case .plain(let handler):
                try await processPlain(run, handler: handler)
            case .transactional(let handler, let store):
                try await processTransactional(run, handler: handler, store: store)
            }
        }
        try await flush()
    }

    // MARK: - Plain mode

    /// Claims a run in one call, then handles its messages in order, renewing the claims of the
    /// messages not yet started whenever they are half a lease old.
    ///
    /// When the run stops early (the partition is revoked, the consumer stops), the claims of the
    /// messages not yet started are released, so the next owner does not take them for maybe applied.
    mutating func processPlain(_ run: [PreparedMessage], handler: MessageHandler) async throws {
        var outcomes = try await claim(run)
        var claimedAt = ContinuousClock.now
        // The first message not yet started: every message before it is handled or in hand.
        var next = 0
        do {
            while next < run.count {
                guard !worker.revoked else { throw PartitionStop.revoked }
                // A long run (slow handlers, a wait for a key another partition holds) can outlive
                // the leases of its unstarted claims, and another partition may then take one over
                // and run it. Past half a lease, claim the rest again: that renews what is still ours
                // and replaces a stale outcome with what the store says now.
                if ContinuousClock.now - claimedAt >= configuration.leaseDuration / 2 {
                    outcomes = try await reclaim(run, outcomes, from: next)
                    claimedAt = ContinuousClock.now
                }
                let (item, outcome) = (run[next], outcomes[next])
                next += 1
                if context.testHooks.commitsBeforeRecording { publish(item.message.offset) }
                try await handle(item, outcome, handler: handler)
            }
        } catch {
            await releaseUnstarted(run[next...], outcomes[next...], after: error)
            throw error
        }
    }

    /// Releases the claims this run acquired for messages whose handler never started; best effort.
    ///
    /// Only keys claimed as new are released: an abandoned key taken over stays maybe applied, since
    /// its previous owner may have run it. A key whose outcome waits unrecorded in ``pending`` (the
    /// same key earlier in the batch, under ``OutcomeBatching/perBatch(maxMessages:)``) ran, so it
    /// stays too. A failed release leaves the claims to the next owner's ``AbandonedClaimPolicy``.
    func releaseUnstarted(
        _ items: ArraySlice<PreparedMessage>,
        _ outcomes: ArraySlice<ClaimOutcome>,
        after error: any Error
    ) async {
        // A fenced store refuses the release, and an aborted consumer keeps its claims as a crash would.
        if case PartitionStop.fenced = error { return }
        guard !worker.isAbandoned else { return }
        let handled = Set(pending.map(\.key))
        let keys = zip(items, outcomes).compactMap { item, outcome -> String? in
            guard case .acquired = outcome, !handled.contains(item.key) else { return nil }
            return item.key
        }
        guard !keys.isEmpty else { return }

        let details = ["kafka.partition": worker.partition.description, "kafka_once.keys": String(keys.count)]
        do {
            try await context.store.release(keys, fence: fence)
            context.logger.log(.debug, "claims of messages not started released", metadata: details)
        } catch {
            context.logger.log(
                .info,
                "claims of messages not started kept: the next owner treats them as maybe applied",
                metadata: details.merging(["kafka_once.error": "\(error)"]) { first, _ in first }
            )
        }
    }

    mutating func handle(_ item: PreparedMessage, _ outcome: ClaimOutcome, handler: MessageHandler) async throws {
        switch outcome {
        case .acquired:
            try await runHandler(item, maybeApplied: false, handler: handler)
        case .abandoned(let previous):
            metrics.abandonedClaims.add(1)
            if await shouldReprocess(item.message, previous) {
                try await runHandler(item, maybeApplied: true, handler: handler)
            } else {
                try await handled(item, recording: .completed(result: nil), attempts: 0)
            }
        case .busy:
            let settled = try await claimUntilSettled(item)
            try await handle(item, settled, handler: handler)
        default:
            try await skip(item, outcome)
        }
    }

    /// Runs the handler with retries, then records the outcome or applies the failure policy.
    mutating func runHandler(_ item: PreparedMessage, maybeApplied: Bool, handler: MessageHandler) async throws {
        var attempt = 1
        while true {
            let messageContext = MessageContext(
                idempotencyKey: item.key,
                attempt: attempt,
                isMaybeApplied: maybeApplied
            )
            do {
                try await handler(item.message, messageContext)
            } catch {
                guard !worker.revoked else { throw PartitionStop.revoked }
                if attempt >= configuration.retry.maxAttempts {
                    try await fail(item, reason: "\(error)", attempts: attempt)
                    return
                }
                try await backOff(after: attempt, item: item, error: error)
                attempt += 1
                continue
            }
            // Outside the `catch`: a record that cannot be written (a fenced partition, a broken
            // store) stops the partition; it must not run the handler again.
            metrics.processed.add(1)
            try await handled(item, recording: .completed(result: messageContext.result), attempts: attempt)
            return
        }
    }

    // MARK: - Outcomes

    mutating func skip(_ item: PreparedMessage, _ outcome: ClaimOutcome) async throws {
        switch outcome {
        case .completed(let record):
            metrics.duplicatesSkipped.add(1)
            await context.onDuplicate?(item.message, record)
        case .failed:
            metrics.failedSkipped.add(1)
        case .conflict(let record):
            metrics.conflicts.add(1)
            try await resolveConflict(item, record)
        case .acquired, .abandoned, .busy:
            preconditionFailure("\(outcome) is handled, not skipped")
        }
        try await handled(item, recording: nil, attempts: 0)
    }

    mutating func resolveConflict(_ item: PreparedMessage, _ record: DeduplicationRecord) async throws {
        let reason =
            "conflict: key \(item.key) was recorded from \(record.origin) with payload fingerprint "
            + "\(record.fingerprint), this message's is \(item.fingerprint)"
        switch configuration.conflictPolicy {
        case .skip:
            context.logger.log(
                .warning,
                "conflicting message skipped",
                metadata: metadata(item, ["kafka_once.reason": reason])
            )
        case .stop:
            throw EffectivelyOnceError(
                "\(item.message.coordinates): \(reason); the consumer stopped (conflictPolicy = .stop)"
            )
        case .failurePolicy:
            // The key's record belongs to the first message, so only the dead letter is written.
            try await applyFailurePolicy(item, reason: reason, attempts: 0)
        }
    }

    /// Applies the failure policy to a message whose last attempt failed, and records it failed.
    mutating func fail(_ item: PreparedMessage, reason: String, attempts: Int) async throws {
        metrics.failed.add(1)
        try await applyFailurePolicy(item, reason: reason, attempts: attempts)
        try await handled(item, recording: .failed(reason: reason), attempts: attempts)
    }

    func applyFailurePolicy(_ item: PreparedMessage, reason: String, attempts: Int) async throws {
        switch configuration.failurePolicy {
        case .stop:
            throw EffectivelyOnceError(
                "\(item.message.coordinates) failed after \(attempts) attempt(s): \(reason); the consumer stopped "
                    + "without committing it (set failurePolicy to .deadLetter(topic:) to move on)"
            )
        case .deadLetter(let topic):
            guard let deadLetters = context.deadLetters else {
                throw EffectivelyOnceError("no dead-letter producer for \(topic)")
            }
            let (message, key) = (item.message, item.key)
            try await StoreRetry.run("dead letter", worker: worker, context: context) {
                try await deadLetters.publish(message, to: topic, key: key, error: reason, attempts: attempts)
            }
            metrics.deadLettered.add(1)
            context.logger.log(
                .warning,
                "message dead-lettered",
                metadata: metadata(item, ["kafka_once.reason": reason])
            )
        case .skip:
            context.logger.log(
                .error,
                "failed message skipped",
                metadata: metadata(item, ["kafka_once.reason": reason])
            )
        }
    }

    /// Marks a message handled; `recording` is the outcome to record, if any.
    mutating func handled(
        _ item: PreparedMessage,
        recording kind: RecordedOutcome.Kind?,
        attempts: Int
    ) async throws {
        if let kind {
            pending.append(
                RecordedOutcome(
                    key: item.key,
                    fingerprint: item.fingerprint,
                    origin: item.message.coordinates,
                    kind: kind,
                    attempts: attempts
                )
            )
        }
        lastHandled = item.message.offset

        switch configuration.outcomeBatching {
        case .perMessage:
            try await flush()
        case .perBatch(let maxMessages):
            if pending.count >= maxMessages { try await flush() }
            if pending.isEmpty { publish(item.message.offset) }
        }
    }

    /// Records pending outcomes durably, then makes everything handled so far committable.
    mutating func flush() async throws {
        if !pending.isEmpty {
            let (outcomes, store, fence) = (pending, context.store, fence)
            try await StoreRetry.run("record", worker: worker, context: context) {
                try await store.finish(outcomes, fence: fence)
            }
            // Not keeping the capacity, which `outcomes` may still share: that would copy it.
            pending.removeAll()
        }
        if let lastHandled { publish(lastHandled) }
    }

    func publish(_ offset: Int64) {
        let next = offset + 1
        if worker.committableOffset.load(ordering: .relaxed) < next {
            worker.committableOffset.store(next, ordering: .releasing)
        }
    }

    // MARK: - Claims

    func claim(_ run: [PreparedMessage]) async throws -> [ClaimOutcome] {
        let requests = run.map(\.request)
        let (store, fence, lease) = (context.store, fence, configuration.leaseDuration)
        return try await StoreRetry.run("claim", worker: worker, context: context) {
            try await store.claim(requests, fence: fence, leaseDuration: lease)
        }
    }

    /// Claims the messages of `run` from `start` on again, for those it holds (acquired or taken
    /// over), and returns the outcomes to act on: a key still ours keeps its first outcome (a
    /// claim taken over stays maybe applied); a key another owner took over, or finished, since
    /// takes the new one (busy, abandoned, completed).
    func reclaim(_ run: [PreparedMessage], _ outcomes: [ClaimOutcome], from start: Int) async throws -> [ClaimOutcome] {
        let held = (start..<run.count).filter { index in
            switch outcomes[index] {
            case .acquired, .abandoned: true
            default: false
            }
        }
        guard !held.isEmpty else { return outcomes }
        let fresh = try await claim(held.map { run[$0] })
        var result = outcomes
        for (index, outcome) in zip(held, fresh) {
            if case .acquired = outcome { continue }
            result[index] = outcome
        }
        return result
    }

    /// Claims one key again until its other owner finishes or lets its lease expire.
    func claimUntilSettled(_ item: PreparedMessage) async throws -> ClaimOutcome {
        var wait: Duration = .milliseconds(50)
        while true {
            try await sleepUnlessRevoked(wait)
            wait = min(wait * 2, .seconds(2))
            let outcome = try await claim([item])[0]
            if case .busy = outcome { continue }
            return outcome
        }
    }

    func shouldReprocess(_ message: KafkaMessage, _ previous: DeduplicationRecord) async -> Bool {
        switch configuration.abandonedClaimPolicy {
        case .reprocess: true
        case .skip: false
        case .decide(let decide): await decide(message, previous)
        }
    }

    // MARK: - Waiting

    func backOff(after attempt: Int, item: PreparedMessage, error: any Error) async throws {
        try await backOff(after: attempt, item: item, error: "\(error)")
    }

    func backOff(after attempt: Int, item: PreparedMessage, error: String) async throws {
        metrics.retries.add(1)
        context.logger.log(
            .debug,
            "handler failed, retrying",
            metadata: metadata(item, ["kafka_once.attempt": String(attempt), "kafka_once.error": error])
        )
        worker.isBackingOff.store(true, ordering: .relaxed)
        defer { worker.isBackingOff.store(false, ordering: .relaxed) }
        try await sleepUnlessRevoked(configuration.retry.backoff(after: attempt))
    }

    /// Sleeps in short steps so that a revocation ends the wait promptly.
    func sleepUnlessRevoked(_ duration: Duration) async throws {
        let deadline = ContinuousClock.now + duration
        while ContinuousClock.now < deadline {
            guard !worker.revoked else { throw PartitionStop.revoked }
            try await Task.sleep(for: min(.milliseconds(20), deadline - ContinuousClock.now))
        }
    }

    func metadata(_ item: PreparedMessage, _ extra: [String: String]) -> [String: String] {
        extra.merging(
            [
                "kafka.topic": item.message.topic,
                "kafka.partition": String(item.message.partition),
                "kafka.offset": String(item.message.offset),
                "kafka_once.key": item.key,
            ]
        ) { first, _ in first }
    }
}
