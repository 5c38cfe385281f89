import Dispatch
import Synchronization

/// Processes one assigned partition's messages in order, on its own task.
///
/// The poll loop hands it batches; it claims, handles and records them, and publishes the
/// highest offset whose outcome is durable (``committableOffset``), which the poll loop commits.
/// On revocation it finishes the message in hand, releases the claims of the messages it will not
/// start, and drops them: the next owner reads them.
final class PartitionWorker: Sendable {
    let partition: KafkaTopicPartition
    /// Messages handed over and not yet done.
    let buffered = Atomic<Int>(0)
    /// The offset to commit: one past the last message whose outcome is durable; -1 before any.
    let committableOffset = Atomic<Int64>(-1)
    /// Whether a failed message is waiting for its next attempt (the partition is paused then).
    let isBackingOff = Atomic<Bool>(false)
    let isRevoked = Atomic<Bool>(false)
    /// Whether the worker stops as a crash would (``abandon()``): it releases no claim.
    private let abandoned = Atomic<Bool>(false)
    /// Whether the store refused this worker's fence: another consumer owns the partition.
    let isFenced = Atomic<Bool>(false)
    private let inbox = PartitionInbox()
    private let finished = DispatchSemaphore(value: 0)

    init(partition: KafkaTopicPartition, context: RuntimeContext) {
        self.partition = partition
        Task { [self] in
            await serve(context: context)
            finished.signal()
        }
    }

    /// Queues messages of this partition, in offset order.
    func enqueue(_ messages: ArraySlice<KafkaMessage>, context: RuntimeContext) {
        count(messages.count, context: context)
        // A revoked worker takes nothing more: the partition's next owner reads these.
        if !inbox.append(messages) { count(-messages.count, context: context) }
    }

    /// Counts messages handed over (positive) or done (negative).
    private func count(_ messages: Int, context: RuntimeContext) {
        buffered.add(messages)
        context.metrics.inFlight.add(messages)
        if messages > 0 { context.buffered.add(messages) } else { context.buffered.remove(-messages) }
    }

    /// Processes what is queued, then ends.
    func finishInput() {
        inbox.finish()
    }

    /// Finishes the message in hand, drops the rest, then ends.
    func revoke() {
        isRevoked.store(true, ordering: .releasing)
        inbox.finish()
    }

    /// Finishes the message in hand and drops the rest as a crash would: the claims of the messages
    /// not started stay in progress, for the next owner to find abandoned.
    func abandon() {
        abandoned.store(true, ordering: .releasing)
        revoke()
    }

    /// Waits, blocking the calling thread, until the worker ended or `timeout` passed.
    ///
    /// - Returns: Whether the worker ended.
    func waitUntilFinished(timeout: Duration) -> Bool {
        let ended = finished.wait(timeout: .now() + .milliseconds(Int(timeout.milliseconds))) == .success
        if ended { finished.signal() }
        return ended
    }

    var revoked: Bool { isRevoked.load(ordering: .acquiring) }

    var isAbandoned: Bool { abandoned.load(ordering: .acquiring) }

    // MARK: - The task

    private func serve(context: RuntimeContext) async {
        var processor: PartitionProcessor?
        while let messages = await inbox.next() {
            defer { count(-messages.count, context: context) }
            guard !revoked, context.stopError == nil else { continue }
            do {
                if processor == nil {
                    processor = try await PartitionProcessor(worker: self, context: context)
                }
                try await processor!.process(messages)
            } catch PartitionStop.revoked {
                await recordPending(&processor, context: context)
            } catch PartitionStop.fenced {
                context.logger.log(
                    .info,
                    "partition fenced: another consumer owns it now",
                    metadata: ["kafka.partition": partition.description]
                )
                isFenced.store(true, ordering: .releasing)
                isRevoked.store(true, ordering: .releasing)
            } catch {
                context.stop(because: error)
                await recordPending(&processor, context: context)
            }
        }
    }

    /// Records the outcomes that `.perBatch` held back when the worker stops early; best effort.
    ///
    /// Those are effects that happened: recorded while the fence still holds, the next owner skips
    /// them instead of running them again. A worker abandoned as a crash would leaves them.
    private func recordPending(_ processor: inout PartitionProcessor?, context: RuntimeContext) async {
        guard !isAbandoned, let unrecorded = processor?.pending.count, unrecorded > 0 else { return }
        do {
            try await processor?.flush()
        } catch {
            context.logger.log(
                .info,
                "outcomes handled before the stop not recorded: the next owner runs those messages again",
                metadata: [
                    "kafka.partition": partition.description,
                    "kafka_once.outcomes": String(unrecorded),
                    "kafka_once.error": "\(error)",
                ]
            )
        }
    }
}
