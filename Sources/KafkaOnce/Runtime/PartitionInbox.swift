import Synchronization

/// The messages the poll loop has handed to one partition's worker and the worker has not taken.
///
/// The worker takes everything waiting at once, so a worker that falls behind the poll loop gets
/// larger batches (one claim round trip for more messages) instead of a backlog of small ones.
/// The poll loop appends from its thread; the worker waits on its task.
final class PartitionInbox: Sendable {
    fileprivate struct State {
        var messages: [KafkaMessage] = []
        var waiter: CheckedContinuation<[KafkaMessage]?, Never>?
        var isFinished = false
    }

    private let state = Mutex(State())

    /// Adds messages of the partition, in offset order, and wakes the worker if it waits.
    ///
    /// - Returns: Whether the messages were taken; after ``finish()`` they are refused.
    @discardableResult
    func append(_ messages: ArraySlice<KafkaMessage>) -> Bool {
        typealias Wake = (waiter: CheckedContinuation<[KafkaMessage]?, Never>, messages: [KafkaMessage])
        let (isTaken, wake) = state.withLock { state -> (Bool, Wake?) in
            guard !state.isFinished else { return (false, nil) }
            state.messages.append(contentsOf: messages)
            guard let waiter = state.waiter else { return (true, nil) }
            state.waiter = nil
            return (true, (waiter, state.takeMessages()))
        }
        // Resumed outside the lock: the worker may run at once on another thread.
        if let wake { wake.waiter.resume(returning: wake.messages) }
        return isTaken
    }

    /// Ends the input: ``next()`` returns what is still waiting, then `nil`.
    func finish() {
        let waiter = state.withLock { state in
            state.isFinished = true
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume(returning: nil)
    }

    /// Everything waiting, in offset order; waits when nothing is. `nil` once the input finished and
    /// everything was taken.
    ///
    /// - Important: One caller at a time: the partition's worker.
    func next() async -> [KafkaMessage]? {
        // Most calls find messages waiting: take them without suspending.
        switch state.withLock({ $0.take() }) {
        case .messages(let messages): return messages
        case .finished: return nil
        case .empty: break
        }
        return await withCheckedContinuation { continuation in
            let taken = state.withLock { state in
                let taken = state.take()
                if case .empty = taken { state.waiter = continuation }
                return taken
            }
            switch taken {
            case .messages(let messages): continuation.resume(returning: messages)
            case .finished: continuation.resume(returning: nil)
            case .empty: break
            }
        }
    }
}

extension PartitionInbox.State {
    enum Taken {
        case messages([KafkaMessage])
        case finished
        case empty
    }

    mutating func take() -> Taken {
        if !messages.isEmpty { return .messages(takeMessages()) }
        return isFinished ? .finished : .empty
    }

    mutating func takeMessages() -> [KafkaMessage] {
        defer { messages = [] }
        return messages
    }
}
