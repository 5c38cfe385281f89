import Foundation
import KafkaOnce
import Synchronization

/// Watches a counter from a thread of its own until it reaches a target, stops moving, or the
/// watch is cancelled.
///
/// The thread reads the counter every millisecond, so the end of a timed run is known within a
/// millisecond without adding work to the cooperative pool the measured code runs on.
final class BenchProgressWatch: Sendable {
    /// Why a watch ended.
    enum Ending: Sendable, Equatable {
        case reachedTarget
        /// The counter did not move for the stall timeout.
        case stalled
        case cancelled
    }

    /// The counter's value when the watch ended, and when that was.
    struct Result: Sendable {
        var count: Int
        var instant: ContinuousClock.Instant
        var ending: Ending
    }

    private let isCancelled = Atomic(false)

    /// Ends a running or future ``wait(for:stallTimeout:reading:)``.
    func cancel() {
        isCancelled.store(true, ordering: .releasing)
    }

    /// Waits until `count()` returns at least `target`, or returns the same value for
    /// `stallTimeout`, or ``cancel()`` is called.
    func wait(
        for target: Int,
        stallTimeout: Duration,
        reading count: @escaping @Sendable () -> Int
    ) async -> Result {
        await withCheckedContinuation { continuation in
            startThread(named: "kafka-once.bench.watch") { [self] in
                continuation.resume(returning: watch(target: target, stallTimeout: stallTimeout, count: count))
            }
        }
    }

    private func watch(target: Int, stallTimeout: Duration, count: () -> Int) -> Result {
        var last = count()
        var lastMove = ContinuousClock.now
        while true {
            let current = count()
            let now = ContinuousClock.now
            if current >= target { return Result(count: current, instant: now, ending: .reachedTarget) }
            if isCancelled.load(ordering: .acquiring) {
                return Result(count: current, instant: now, ending: .cancelled)
            }

            if current != last {
                last = current
                lastMove = now
            } else if now - lastMove >= stallTimeout {
                return Result(count: current, instant: now, ending: .stalled)
            }
            Thread.sleep(forTimeInterval: 0.001)
        }
    }
}
