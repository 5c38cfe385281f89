import CRDKafka
import Synchronization

/// Wakes librdkafka's fetcher once a consumer has emptied its local queue.
///
/// librdkafka 2.0.2 stops fetching for a partition whose local queue holds `queued.min.messages`
/// records (or `queued.max.messages.kbytes`), and looks at the queue again only when the
/// partition leader's broker thread next wakes up: with nothing else to do, a second later
/// (confluentinc/librdkafka#2879; librdkafka 2.1 made the wait `fetch.queue.backoff.ms`). A
/// consumer that empties the queue within that second then waits out the rest of it, which caps
/// it near `queued.min.messages` records a second whatever its speed.
///
/// Any request to a leader wakes its thread. So after a poll that returned records and emptied
/// the queue, this sends one, on a thread of its own so the poll never waits for it: a watermark
/// query for the next assigned partition in turn, at most once per interval and one at a time. An
/// idle consumer, whose polls return nothing, sends none.
final class FetchWakeup: Sendable {
    private struct State {
        var lastWake: ContinuousClock.Instant?
        var isWaking = false
        var nextPartition: UInt = 0
    }

    private let interval: Duration
    private let worker = BlockingWorker(name: "kafka-once.fetch-wakeup")
    private let state = Mutex(State())

    init(interval: Duration) {
        self.interval = interval
    }

    /// Called by the consumer after a poll that returned records and emptied librdkafka's queue.
    ///
    /// - Parameter isOpen: Whether the consumer is still open; checked on the wake-up thread
    ///   before the handle is used.
    func queueEmptied(_ client: RDKafkaClient, isOpen: @escaping @Sendable () -> Bool) {
        let now = ContinuousClock.now
        let turn: UInt? = state.withLock { state in
            guard !state.isWaking, state.lastWake.map({ now - $0 >= interval }) ?? true else { return nil }
            state.isWaking = true
            state.lastWake = now
            defer { state.nextPartition &+= 1 }
            return state.nextPartition
        }
        guard let turn else { return }
        worker.submit { [self] in
            defer { state.withLock { $0.isWaking = false } }
            guard isOpen() else { return }
            Self.queryWatermarks(of: turn, client)
        }
    }

    /// Ends the wake-up thread once a wake-up in flight is done.
    func stop() {
        worker.stop()
    }

    /// Sends a watermark query to the leader of assigned partition number `turn` (modulo the
    /// assignment's size) and waits up to a second for its answer, which is not needed.
    private static func queryWatermarks(of turn: UInt, _ client: RDKafkaClient) {
        var list: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>?
        guard rd_kafka_assignment(client.handle, &list) == RD_KAFKA_RESP_ERR_NO_ERROR, let list else { return }
        defer { rd_kafka_topic_partition_list_destroy(list) }
        guard list.pointee.cnt > 0 else { return }

        let partition = list.pointee.elems[Int(turn % UInt(list.pointee.cnt))]
        var low: Int64 = 0
        var high: Int64 = 0
        _ = rd_kafka_query_watermark_offsets(client.handle, partition.topic, partition.partition, &low, &high, 1000)
    }
}
