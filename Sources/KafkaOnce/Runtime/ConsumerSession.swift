import Synchronization

/// One run of an ``EffectivelyOnceConsumer``: the Kafka consumer, the partition workers, the
/// poll loop and the commits.
///
/// The poll loop runs on a thread of its own, and the rebalance hook runs there too, inside a
/// poll, synchronously, while librdkafka waits. The other librdkafka calls that block (the final
/// commit, leaving the group) run on the Kafka consumer's own thread; none runs on the
/// cooperative pool.
final class ConsumerSession: Sendable {
    private struct State {
        var workers: [KafkaTopicPartition: PartitionWorker] = [:]
        var paused: Set<KafkaTopicPartition> = []
        /// The last offset the broker accepted, per partition.
        var committed: [KafkaTopicPartition: Int64] = [:]
        var isStopRequested = false
        var isAborting = false
    }

    let context: RuntimeContext
    private let state = Mutex(State())
    private let commitStarted = Mutex<ContinuousClock.Instant?>(nil)

    init(context: RuntimeContext) {
        self.context = context
    }

    var configuration: EffectivelyOnceConfiguration { context.configuration }
    var logger: KafkaOnceLogger { context.logger }

    func requestStop() {
        state.withLock { $0.isStopRequested = true }
    }

    /// Stops as a crash would: in-flight messages finish, nothing more is committed, and the
    /// group is not left.
    func abort() {
        state.withLock { state in
            state.isStopRequested = true
            state.isAborting = true
        }
    }

    private var shouldStop: Bool {
        state.withLock { $0.isStopRequested } || context.stopError != nil
    }

    // MARK: - Running

    func run() async throws {
        let consumer = try KafkaConsumer(
            configuration: configuration.consumer,
            events: KafkaConsumerEvents(
                rebalance: { [self] rebalance, consumer in rebalanced(rebalance, consumer) },
                commit: { [self] result in committed(result) },
                error: { [logger] error in
                    logger.log(.info, "consumer error", metadata: ["kafka.error": error.message])
                }
            ),
            logger: logger
        )
        // Fail fast, with the servers named, when no broker answers.
        _ = try await consumer.metadata(timeout: .seconds(10))
        try await start(consumer)
        logger.log(.debug, "consumer started", metadata: ["kafka.group.id": configuration.consumer.groupID])

        var loopError: (any Error)?
        do {
            try await pollLoop(consumer)
        } catch {
            loopError = error
        }
        await stop(consumer)
        if let error = loopError ?? context.stopError { throw error }
    }

    private func start(_ consumer: KafkaConsumer) async throws {
        if let partitions = configuration.partitions {
            try await consumer.assign(
                partitions.map {
                    KafkaTopicPartitionOffset(topic: $0.topic, partition: $0.partition, offset: KafkaOffset.stored)
                }
            )
            state.withLock { state in
                for partition in partitions {
                    state.workers[partition] = PartitionWorker(partition: partition, context: context)
                }
            }
        } else {
            try consumer.subscribe(topics: configuration.topics)
        }
    }

    /// Polls, dispatches, pauses and commits until a stop is asked, on a thread of its own.
    ///
    /// The thread is the loop's alone so that polling never waits for the partitions' tasks on the
    /// cooperative pool, nor they for a poll: librdkafka keeps prefetching while they work.
    private func pollLoop(_ consumer: KafkaConsumer) async throws {
        try await onDedicatedThread(named: "kafka-once.poll") { [self] in try pollUntilStopped(consumer) }
    }

    private func pollUntilStopped(_ consumer: KafkaConsumer) throws {
        var lastCommit = ContinuousClock.now
        var commitRound = 0
        while !shouldStop {
            // Full buffers hold the next poll back; a wait that lasts pauses the partitions behind it.
            let hasRoom = context.buffered.waitForRoom(timeout: Self.roomWait)
            let messages = try consumer.pollSynchronously(
                maxMessages: configuration.maxPollBatch,
                timeout: .milliseconds(100)
            )
            context.metrics.deliveries.add(messages.count)
            dispatch(messages)
            try controlFlow(consumer, pausingFullPartitions: !hasRoom)

            if ContinuousClock.now - lastCommit >= configuration.commitInterval {
                commitRound += 1
                commitAsync(consumer, refreshing: commitRound % Self.refreshEvery == 0)
                updateLag(consumer)
                lastCommit = ContinuousClock.now
            }
        }
    }

    /// Hands each run of messages of one partition to that partition's worker.
    private func dispatch(_ messages: [KafkaMessage]) {
        var start = 0
        while start < messages.count {
            let partition = KafkaTopicPartition(topic: messages[start].topic, partition: messages[start].partition)
            var end = start + 1
            while end < messages.count && messages[end].partition == partition.partition
                && messages[end].topic == partition.topic
            {
                end += 1
            }
            let worker = state.withLock { $0.workers[partition] }
            if let worker {
                worker.enqueue(messages[start..<end], context: context)
            } else {
                // A message for a partition this consumer no longer owns: its next owner reads it.
                logger.log(
                    .debug,
                    "message for an unowned partition dropped",
                    metadata: ["kafka.partition": "\(partition)"]
                )
            }
            start = end
        }
    }

    /// How long the poll loop waits for full buffers to drain before it polls anyway, pausing the
    /// partitions that hold too many messages: the member must poll to serve rebalances.
    ///
    /// Long enough that a slow store (a few tens of thousands of messages a second) works half the
    /// buffers down within it, so pausing stays for handlers that stall: each pause makes
    /// librdkafka drop the partition's prefetched records and fetch them again on resume.
    private static let roomWait: Duration = .milliseconds(500)

    /// Pauses partitions with a message waiting to be retried, and, when `pausingFullPartitions`,
    /// those with too many buffered messages; resumes them once they drained to half. Polling goes
    /// on so the member stays in the group.
    private func controlFlow(_ consumer: KafkaConsumer, pausingFullPartitions: Bool) throws {
        let limit = configuration.maxBufferedPerPartition
        let (toPause, toResume) = state.withLock { state in
            var toPause: [KafkaTopicPartition] = []
            var toResume: [KafkaTopicPartition] = []
            for (partition, worker) in state.workers {
                let buffered = worker.buffered.load(ordering: .relaxed)
                let isWaiting = worker.isBackingOff.load(ordering: .relaxed)
                let isFull = pausingFullPartitions && buffered > limit
                if !state.paused.contains(partition) && (isFull || isWaiting) {
                    toPause.append(partition)
                    state.paused.insert(partition)
                } else if state.paused.contains(partition) && buffered <= limit / 2 && !isWaiting {
                    toResume.append(partition)
                    state.paused.remove(partition)
                }
            }
            return (toPause, toResume)
        }
        if !toPause.isEmpty { try consumer.pause(toPause) }
        if !toResume.isEmpty { try consumer.resume(toResume) }
    }

    // MARK: - Commits

    /// The committable offsets that moved past what the broker accepted, or all of them when
    /// `refreshing`: a commit the broker lost, or a zombie's older commit over ours, is then
    /// written again.
    ///
    /// A worker fenced out by the store is skipped: its partition belongs to another consumer.
    private func pendingOffsets(
        of partitions: [KafkaTopicPartition]? = nil,
        refreshing: Bool = false
    ) -> [KafkaTopicPartitionOffset] {
        state.withLock { state in
            let selected = partitions ?? Array(state.workers.keys)
            return selected.compactMap { partition in
                guard let worker = state.workers[partition], !worker.isFenced.load(ordering: .acquiring) else {
                    return nil
                }
                let offset = worker.committableOffset.load(ordering: .acquiring)
                guard offset >= 0, refreshing || offset > state.committed[partition] ?? -1 else { return nil }
                return KafkaTopicPartitionOffset(topic: partition.topic, partition: partition.partition, offset: offset)
            }
        }
    }

    /// Every this many commit intervals, every committable offset is committed again.
    private static let refreshEvery = 10

    private func commitAsync(_ consumer: KafkaConsumer, refreshing: Bool) {
        let offsets = pendingOffsets(refreshing: refreshing)
        guard !offsets.isEmpty else { return }
        context.testHooks.beforeCommit?(offsets)
        commitStarted.withLock { $0 = ContinuousClock.now }
        do {
            try consumer.commitAsync(offsets)
        } catch {
            context.metrics.commitFailures.add(1)
            logger.log(.info, "commit not sent", metadata: ["kafka.error": "\(error)"])
        }
    }

    /// Commits synchronously; a refusal is logged, not thrown: the offsets are redelivered to the
    /// next owner, whose store recognises them.
    private func commitNow(_ offsets: [KafkaTopicPartitionOffset], _ consumer: KafkaConsumer) {
        guard !offsets.isEmpty else { return }
        context.testHooks.beforeCommit?(offsets)
        commitStarted.withLock { $0 = ContinuousClock.now }
        do {
            try consumer.commitSynchronously(offsets)
        } catch {
            logger.log(.info, "final commit refused", metadata: ["kafka.error": "\(error)"])
        }
    }

    private func committed(_ result: KafkaCommitResult) {
        if let error = result.error {
            context.metrics.commitFailures.add(1)
            logger.log(.info, "commit refused, retried at the next interval", metadata: ["kafka.error": error.message])
            return
        }
        context.metrics.commits.add(1)
        if let started = commitStarted.withLock({ $0 }) {
            let latency = ContinuousClock.now - started
            context.metrics.commitLatencyMicroseconds.store(Int(latency.milliseconds * 1000), ordering: .relaxed)
        }
        state.withLock { state in
            for offset in result.offsets {
                let partition = offset.topicPartition
                state.committed[partition] = max(state.committed[partition] ?? -1, offset.offset)
            }
        }
    }

    private func updateLag(_ consumer: KafkaConsumer) {
        let workers = state.withLock { Array($0.workers.values) }
        var lag = 0
        for worker in workers {
            guard let (_, high) = consumer.cachedWatermarks(worker.partition) else { continue }
            let position = worker.committableOffset.load(ordering: .relaxed)
            if position >= 0 { lag += Int(max(0, high - position)) }
        }
        context.metrics.lag.store(lag, ordering: .relaxed)
    }

    // MARK: - Rebalances

    /// Runs on the Kafka consumer's thread inside a poll, before librdkafka applies the change.
    private func rebalanced(_ rebalance: KafkaRebalance, _ consumer: KafkaConsumer) {
        switch rebalance.kind {
        case .assigned:
            state.withLock { state in
                for partition in rebalance.partitions where state.workers[partition] == nil {
                    state.workers[partition] = PartitionWorker(partition: partition, context: context)
                }
            }
        case .revoked, .lost:
            release(rebalance.partitions, commit: rebalance.kind == .revoked, consumer)
        }
    }

    /// Stops the workers of `partitions`, waits (bounded) for their in-flight message, commits
    /// what is durable unless the partitions were lost, and forgets them.
    private func release(_ partitions: [KafkaTopicPartition], commit: Bool, _ consumer: KafkaConsumer) {
        let workers = state.withLock { state in partitions.compactMap { state.workers[$0] } }
        workers.forEach { $0.revoke() }
        let deadline = ContinuousClock.now + configuration.drainTimeout
        for worker in workers where !worker.waitUntilFinished(timeout: max(.zero, deadline - ContinuousClock.now)) {
            logger.log(
                .warning,
                "in-flight message abandoned at revocation; its key stays in progress",
                metadata: ["kafka.partition": "\(worker.partition)"]
            )
        }

        if commit { commitNow(pendingOffsets(of: partitions), consumer) }

        let paused = state.withLock { state in
            defer {
                for partition in partitions {
                    state.workers[partition] = nil
                    state.committed[partition] = nil
                }
            }
            let paused = partitions.filter { state.paused.contains($0) }
            state.paused.subtract(partitions)
            return paused
        }
        // A partition assigned again later must not come back paused.
        if !paused.isEmpty { try? consumer.resume(paused) }
    }

    // MARK: - Stopping

    /// Drains every worker (bounded), commits what is durable, and leaves the group.
    private func stop(_ consumer: KafkaConsumer) async {
        let (workers, isAborting) = state.withLock { (Array($0.workers.values), $0.isAborting) }
        if isAborting {
            // In-flight messages finish (and are recorded), as with a crash right after recording;
            // the claims of the messages not started stay, as a crash leaves them.
            workers.forEach { $0.abandon() }
            let drainTimeout = configuration.drainTimeout
            _ = await onDedicatedThread {
                let deadline = ContinuousClock.now + drainTimeout
                return workers.allSatisfy { $0.waitUntilFinished(timeout: max(.zero, deadline - ContinuousClock.now)) }
            }
            state.withLock { $0.workers.removeAll() }
            consumer.abandon()
            await context.deadLetters?.close()
            return
        }
        for worker in workers {
            if context.stopError != nil { worker.revoke() } else { worker.finishInput() }
        }
        let drainTimeout = configuration.drainTimeout
        let drained = await onDedicatedThread {
            let deadline = ContinuousClock.now + drainTimeout
            return workers.allSatisfy { $0.waitUntilFinished(timeout: max(.zero, deadline - ContinuousClock.now)) }
        }
        if !drained {
            workers.forEach { $0.revoke() }
            logger.log(.warning, "shutdown abandoned in-flight messages after the drain timeout")
        }

        let offsets = pendingOffsets()
        if !offsets.isEmpty {
            context.testHooks.beforeCommit?(offsets)
            do {
                try await consumer.commit(offsets)
            } catch {
                logger.log(.info, "final commit refused", metadata: ["kafka.error": "\(error)"])
            }
        }
        state.withLock { $0.workers.removeAll() }

        do {
            try await consumer.close()
        } catch {
            logger.log(.info, "leaving the group failed", metadata: ["kafka.error": "\(error)"])
        }
        await context.deadLetters?.close()
        logger.log(.debug, "consumer stopped", metadata: ["kafka.group.id": configuration.consumer.groupID])
    }
}
