import Dispatch
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// SIGINT and SIGTERM as events a task can await, instead of ending the process.
///
/// Signals arrive through Dispatch sources on a serial queue of their own, never on the
/// cooperative pool. A signal that arrives before anyone awaits it is kept for the next
/// ``next()``.
///
/// ``start(_:)`` returns only once the sources are armed. A Dispatch signal source is armed
/// asynchronously after `resume()`, and until then an ignored signal is lost; so a process that
/// announces it is ready (a parent may signal as soon as it reads the announcement) must start
/// listening, await the start, then announce:
///
/// ```swift
/// let signals = await SignalListener.start()
/// defer { signals.cancel() }
/// Console.output("bootstrap.servers=\(cluster.bootstrapServers)")
/// let signal = await signals.next()
/// ```
///
/// For work that drains on a signal, ``runCancellingOnSignal(_:)`` cancels the work on the first
/// signal and ends the process on the second.
///
/// - Important: The signals stay caught after ``cancel()``: Dispatch keeps its own handler for
///   them, so restoring the default action could take them from another watcher in the process.
///   Cancel the listener when the process is about to end, or keep it for the process's life.
final class SignalListener: Sendable {
    /// Signals received but not yet awaited, and the tasks awaiting one, oldest first.
    private struct State {
        var pending: [Int32] = []
        var waiters: [(id: Int, continuation: CheckedContinuation<Int32?, Never>)] = []
        var nextWaiterID = 0
        var isCancelled = false
    }

    private let state = Mutex(State())
    private let sources = Mutex<[ArmedSource]>([])

    private init() {}

    /// Starts listening for `signals` and returns once a signal sent from now on is received.
    static func start(_ signals: [Int32] = [SIGINT, SIGTERM]) async -> SignalListener {
        let listener = SignalListener()
        let queue = DispatchQueue(label: "kafka-once.signals")

        for number in signals {
            // Ignored first, so the default action cannot end the process before the source is armed.
            signal(number, SIG_IGN)
            let source = ArmedSource(DispatchSource.makeSignalSource(signal: number, queue: queue))
            source.dispatchSource.setEventHandler { [weak listener] in listener?.deliver(number) }
            listener.sources.withLock { $0.append(source) }

            await withCheckedContinuation { registered in
                source.dispatchSource.setRegistrationHandler { registered.resume() }
                source.dispatchSource.resume()
            }
        }
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
        let sources = sources.withLock { sources in
            defer { sources = [] }
            return sources
        }
        for source in sources {
            source.dispatchSource.cancel()
        }

        let waiters = state.withLock { state in
            defer { state.waiters = [] }
            state.isCancelled = true
            return state.waiters
        }
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

/// A Dispatch signal source, shared between the listener and its queue.
///
/// `@unchecked Sendable`: Dispatch sources are thread-safe; the protocol only lacks the annotation.
private struct ArmedSource: @unchecked Sendable {
    let dispatchSource: any DispatchSourceSignal

    init(_ dispatchSource: any DispatchSourceSignal) {
        self.dispatchSource = dispatchSource
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
