import Dispatch
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Turns SIGINT and SIGTERM into calls of registered closures, for graceful shutdown.
///
/// While at least one closure is registered, the signals are caught; a signal that arrives when
/// none is registered gets its default action (the process ends), so a program that has finished
/// its consumers can still be interrupted.
public final class SignalWatcher: Sendable {
    /// The process-wide watcher.
    public static let shared = SignalWatcher()

    private struct State {
        var handlers: [Int: @Sendable (Int32) -> Void] = [:]
        var nextToken = 0
        var sources: [any DispatchSourceSignal] = []
    }

    private let state = Mutex(State())
    private let queue = DispatchQueue(label: "kafka-once.signals")

    private init() {}

    /// Calls `handler` with the signal number on each SIGINT or SIGTERM until the returned
    /// registration is cancelled.
    ///
    /// Returns once the signals are being watched: a signal sent after that is not missed.
    public func register(_ handler: @escaping @Sendable (Int32) -> Void) async -> Registration {
        let (token, created) = state.withLock { state in
            var created: [any DispatchSourceSignal] = []
            if state.sources.isEmpty {
                created = [SIGINT, SIGTERM].map { makeSource(for: $0) }
                state.sources = created
            }
            defer { state.nextToken += 1 }
            state.handlers[state.nextToken] = handler
            return (state.nextToken, created)
        }
        // A source only receives signals once registered; until then the signal is ignored.
        for source in created {
            await withCheckedContinuation { continuation in
                source.setRegistrationHandler { continuation.resume() }
                source.resume()
            }
        }
        return Registration(watcher: self, token: token)
    }

    private func makeSource(for signalNumber: Int32) -> any DispatchSourceSignal {
        signal(signalNumber, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: queue)
        source.setEventHandler { [self] in deliver(signalNumber) }
        return source
    }

    private func deliver(_ signalNumber: Int32) {
        let handlers = state.withLock { Array($0.handlers.values) }
        guard !handlers.isEmpty else {
            signal(signalNumber, SIG_DFL)
            raise(signalNumber)
            return
        }
        for handler in handlers {
            handler(signalNumber)
        }
    }

    fileprivate func cancel(_ token: Int) {
        state.withLock { _ = $0.handlers.removeValue(forKey: token) }
    }

    /// A registered closure; ``cancel()`` unregisters it.
    public struct Registration: Sendable {
        fileprivate let watcher: SignalWatcher
        fileprivate let token: Int

        /// Stops calling the closure.
        public func cancel() {
            watcher.cancel(token)
        }
    }
}
