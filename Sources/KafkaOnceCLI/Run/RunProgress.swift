import Foundation
import KafkaOnce
import Synchronization

/// Progress of `kafka-once run` on standard error: one line rewritten in place on a terminal,
/// a log line every ten seconds otherwise.
final class RunProgress: Sendable {
    private let metrics: EffectivelyOnceMetrics
    private let isTerminal = isatty(2) == 1
    private let hasLine = Atomic(false)

    init(metrics: EffectivelyOnceMetrics) {
        self.metrics = metrics
    }

    /// Reports until cancelled.
    func report() async {
        let interval: Duration = isTerminal ? .seconds(1) : .seconds(10)
        var previous = metrics.snapshot()
        while !Task.isCancelled {
            try? await Task.sleep(for: interval)
            let current = metrics.snapshot()
            let rate =
                Double(current.processed + current.duplicatesSkipped - previous.processed - previous.duplicatesSkipped)
                / interval.seconds
            let line =
                "processed \(current.processed)  skipped \(current.duplicatesSkipped)  "
                + "dead-lettered \(current.deadLettered)  lag \(current.lag)  \(Int(rate)) msg/s"
            if isTerminal {
                FileHandleOutput.standardError.write("\r\u{1B}[K" + line)
                hasLine.store(true, ordering: .relaxed)
            } else {
                Console.log(line)
            }
            previous = current
        }
    }

    /// Ends the in-place line so later output starts on its own line.
    func finish() {
        if hasLine.load(ordering: .relaxed) { FileHandleOutput.standardError.write("\n") }
    }
}
