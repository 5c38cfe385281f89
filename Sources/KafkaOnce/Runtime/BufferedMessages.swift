import Foundation

/// The messages the poll loop handed to partition workers and they have not finished, across
/// partitions, and the poll loop's wait for room.
///
/// Holding back the next poll, rather than pausing partitions, is the runtime's usual
/// backpressure: librdkafka keeps its prefetched records, where a pause and resume would drop and
/// fetch them again.
final class BufferedMessages: @unchecked Sendable {
    /// At this many the poll loop waits.
    let limit: Int
    private let condition = NSCondition()
    // Guarded by `condition`.
    private var count = 0

    init(limit: Int) {
        self.limit = limit
    }

    /// Counts messages handed to a worker.
    func add(_ messages: Int) {
        condition.lock()
        defer { condition.unlock() }
        count += messages
    }

    /// Counts messages a worker finished, and wakes the poll loop once half the room is free.
    func remove(_ messages: Int) {
        condition.lock()
        defer { condition.unlock() }
        count -= messages
        if count <= limit / 2 { condition.broadcast() }
    }

    /// Blocks the calling thread while the buffers are full, until they drained to half the limit
    /// or `timeout` passed.
    ///
    /// - Returns: Whether there is room below the limit.
    func waitForRoom(timeout: Duration) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        guard count >= limit else { return true }
        let deadline = Date(timeIntervalSinceNow: timeout.seconds)
        while count > limit / 2 {
            guard condition.wait(until: deadline) else { break }
        }
        return count < limit
    }
}
