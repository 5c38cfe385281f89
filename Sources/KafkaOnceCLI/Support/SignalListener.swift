import KafkaOnce
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// SIGINT and SIGTERM as events a task can await, instead of ending the process.
///
/// A thin layer over the library's ``SignalWatcher``: signals arrive on its Dispatch queue, never
/// on the cooperative pool, and a signal that arrives before anyone awaits it is kept for the next
/// ``next()``.
///
/// ``start()`` returns only once the signals are caught, so a process that announces it is ready
/// (a parent may signal as soon as it reads the announcement) must start listening, await the
/// start, then announce:
///
/// ```swift
/// let signals = await SignalListener.start()
/// defer { signals.cancel() }
/// Console.output("bootstrap.servers=\(cluster.bootstrapServers)")
/// let signal = await signals.next()
/// ```
///
/// For work that drains on a signal, ``runCancellingOnSignal(_:)`` cancels the work on the first
/// signal and ends the process on the second. Once every listener is cancelled, and no consumer
/// watches signals, a signal ends the process again.
final class SignalListener: Sendable {
    /// Signals received but not yet awaited, and the tasks awaiting one, oldest first.
    private struct State {
        var pending: [Int32] = []
        var waiters: [(id: Int, continuation: CheckedContinuation<Int32?, Never>)] = []
        var nextWaiterID = 0
        var isCancelled = false
        var registration: SignalWatcher.Registration?
    }

    private let state = Mutex(State())

    private init() {}

    /// Starts listening for SIGINT and SIGTERM and returns once a signal sent from now on is received.
    static func start() async -> SignalListener {
        let listener = SignalListener()
        let registration = await SignalWatcher.shared.register { [weak listener] in listener?.deliver($0) }
        listener.state.withLock { $0.registration = registration }
        return listener
    }

    deinit {
        cancel()
    }

    /// Waits for the next signal and returns its number; `nil` once the listener or the waiting
    /// task is cancelled.
    func next() async -> Int32? {
        let id = state.withLock { state in
            defer { state.nextWaiterID += 1 }
            return state.nextWaiterID
        }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let immediate: Int32?? = state.withLock { state in
                    if state.isCancelled || Task.isCancelled { return .some(nil) }
                    if !state.pending.isEmpty { return .some(state.pending.removeFirst()) }
                    state.waiters.append((id, continuation))
                    return .none
                }
                if let immediate { continuation.resume(returning: immediate) }
            }
        } onCancel: {
            let waiter = state.withLock { state in
                state.waiters.firstIndex { $0.id == id }.map { state.waiters.remove(at: $0) }
            }
            waiter?.continuation.resume(returning: nil)
        }
    }

    /// Stops listening and wakes every waiting task with `nil`. Further calls do nothing.
    func cancel() {
        let (registration, waiters) = state.withLock { state in
            defer {
                state.registration = nil
                state.waiters = []
            }
            state.isCancelled = true
            return (state.registration, state.waiters)
        }
        registration?.cancel()
        for waiter in waiters {
            waiter.continuation.resume(returning: nil)
        }
    }

    private func deliver(_ signal: Int32) {
        let waiter = state.withLock { state -> (id: Int, continuation: CheckedContinuation<Int32?, Never>)? in
            guard !state.isCancelled else { return nil }
            guard !state.waiters.isEmpty else {
                state.pending.append(signal)
                return nil
            }
            return state.waiters.removeFirst()
        }
        waiter?.continuation.resume(returning: signal)
    }
}

extension SignalListener {
    /// Runs `body` until it returns, cancelling it on the first SIGINT or SIGTERM so it can drain,
    /// and ending the process with status 128 + signal on a second one.
    ///
    /// - Important: `body` must react to task cancellation by finishing its work in order (for a
    ///   consumer: drain, record, commit, leave the group) and then return or throw.
    static func runCancellingOnSignal<Result: Sendable>(
        _ body: @escaping @Sendable () async throws -> Result
    ) async throws -> Result {
        let signals = await SignalListener.start()
        defer { signals.cancel() }

        let work = Task { try await body() }
        let watch = Task {
            guard let first = await signals.next() else { return }
            Console.log("received \(signalName(first)); finishing in-flight work (signal again to stop at once)")
            work.cancel()
            guard let second = await signals.next() else { return }
            Console.log("received \(signalName(second)) again; stopping without finishing")
            exit(128 + second)
        }
        defer { watch.cancel() }

        return try await withTaskCancellationHandler {
            try await work.value
        } onCancel: {
            work.cancel()
        }
    }

    /// `SIGINT`, `SIGTERM`, or `signal N`.
    static func signalName(_ number: Int32) -> String {
        switch number {
        case SIGINT: "SIGINT"
        case SIGTERM: "SIGTERM"
        default: "signal \(number)"
        }
    }
}
