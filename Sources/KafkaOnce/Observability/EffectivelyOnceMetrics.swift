import Synchronization

/// Counters and gauges of an ``EffectivelyOnceConsumer``, readable in code at any time and
/// renderable in Prometheus' text format.
///
/// Bridging to swift-metrics is a loop over ``snapshot()`` on a timer, setting a `Gauge` or
/// incrementing a `Counter` by the difference for each field.
public final class EffectivelyOnceMetrics: Sendable {
    let deliveries = Atomic<Int>(0)
    let processed = Atomic<Int>(0)
    let duplicatesSkipped = Atomic<Int>(0)
    let conflicts = Atomic<Int>(0)
    let retries = Atomic<Int>(0)
    let failed = Atomic<Int>(0)
    let deadLettered = Atomic<Int>(0)
    let failedSkipped = Atomic<Int>(0)
    let abandonedClaims = Atomic<Int>(0)
    let commits = Atomic<Int>(0)
    let commitFailures = Atomic<Int>(0)
    let commitLatencyMicroseconds = Atomic<Int>(0)
    let storeRetries = Atomic<Int>(0)
    let inFlight = Atomic<Int>(0)
    let lag = Atomic<Int>(0)
    let coordinateFallbacks = Atomic<Int>(0)

    /// Creates metrics with every counter and gauge at zero.
    ///
    /// A consumer makes its own, ``EffectivelyOnceConsumer/metrics``; create one only to render
    /// or read metrics outside a consumer, such as in a test.
    public init() {}

    /// The values at one moment.
    public struct Snapshot: Sendable, Hashable, Codable {
        /// Messages handed to the runtime by polls (redeliveries included).
        public var deliveries: Int
        /// Messages whose handler ran to success and whose outcome was recorded.
        public var processed: Int
        /// Messages skipped because their key was already completed.
        public var duplicatesSkipped: Int
        /// Messages whose key was recorded with a different payload.
        public var conflicts: Int
        /// Handler attempts after the first.
        public var retries: Int
        /// Messages whose every handler attempt failed. The failure policy then dead-letters
        /// them (also counted in ``deadLettered``), skips them, or stops the consumer.
        public var failed: Int
        /// Messages produced to the dead-letter topic.
        public var deadLettered: Int
        /// Messages skipped because their key was already dead-lettered.
        public var failedSkipped: Int
        /// Claims taken over from an owner that died or lost its partition ("maybe applied").
        public var abandonedClaims: Int
        /// Offset commits the broker accepted.
        public var commits: Int
        /// Offset commits the broker refused (each is retried at the next interval).
        public var commitFailures: Int
        /// The latency of the last accepted commit, in microseconds.
        public var commitLatencyMicroseconds: Int
        /// Store calls retried after a transient failure.
        public var storeRetries: Int
        /// Messages polled and not yet done.
        public var inFlight: Int
        /// Records between the committed position and the high watermark, over every assigned partition.
        public var lag: Int
        /// Messages keyed by their coordinates because no other strategy yielded a key.
        public var coordinateFallbacks: Int
    }

    /// Reads every value.
    public func snapshot() -> Snapshot {
        Snapshot(
            deliveries: deliveries.load(ordering: .relaxed),
            processed: processed.load(ordering: .relaxed),
            duplicatesSkipped: duplicatesSkipped.load(ordering: .relaxed),
            conflicts: conflicts.load(ordering: .relaxed),
            retries: retries.load(ordering: .relaxed),
            failed: failed.load(ordering: .relaxed),
            deadLettered: deadLettered.load(ordering: .relaxed),
            failedSkipped: failedSkipped.load(ordering: .relaxed),
            abandonedClaims: abandonedClaims.load(ordering: .relaxed),
            commits: commits.load(ordering: .relaxed),
            commitFailures: commitFailures.load(ordering: .relaxed),
            commitLatencyMicroseconds: commitLatencyMicroseconds.load(ordering: .relaxed),
            storeRetries: storeRetries.load(ordering: .relaxed),
            inFlight: inFlight.load(ordering: .relaxed),
            lag: lag.load(ordering: .relaxed),
            coordinateFallbacks: coordinateFallbacks.load(ordering: .relaxed)
        )
    }

    /// The values in Prometheus' text exposition format, each metric prefixed with `kafka_once_`.
    ///
    /// - Parameter labels: Labels added to every sample, such as `["group": "payments"]`.
    public func prometheusText(labels: [String: String] = [:]) -> String {
        let snapshot = snapshot()
        let labelText =
            labels.isEmpty
            ? ""
            : "{"
                + labels.sorted { $0.key < $1.key }.map { "\($0.key)=\"\(Self.escape($0.value))\"" }
                .joined(separator: ",") + "}"
        let rows: [(String, String, String, Int)] = [
            ("deliveries_total", "counter", "Messages handed to the runtime by polls.", snapshot.deliveries),
            ("processed_total", "counter", "Messages handled and recorded.", snapshot.processed),
            (
                "duplicates_skipped_total", "counter", "Messages skipped as already completed.",
                snapshot.duplicatesSkipped
            ),
            ("conflicts_total", "counter", "Keys seen again with a different payload.", snapshot.conflicts),
            ("retries_total", "counter", "Handler attempts after the first.", snapshot.retries),
            ("failed_total", "counter", "Messages whose every handler attempt failed.", snapshot.failed),
            ("dead_lettered_total", "counter", "Messages produced to the dead-letter topic.", snapshot.deadLettered),
            ("failed_skipped_total", "counter", "Messages skipped as already dead-lettered.", snapshot.failedSkipped),
            ("abandoned_claims_total", "counter", "Claims taken over from a lost owner.", snapshot.abandonedClaims),
            ("commits_total", "counter", "Offset commits accepted.", snapshot.commits),
            ("commit_failures_total", "counter", "Offset commits refused.", snapshot.commitFailures),
            (
                "commit_latency_microseconds", "gauge", "Latency of the last accepted commit.",
                snapshot.commitLatencyMicroseconds
            ),
            ("store_retries_total", "counter", "Store calls retried after a transient failure.", snapshot.storeRetries),
            ("in_flight", "gauge", "Messages polled and not yet done.", snapshot.inFlight),
            ("lag", "gauge", "Records behind the high watermark.", snapshot.lag),
            (
                "coordinate_fallbacks_total", "counter", "Messages keyed by coordinates for lack of an ID.",
                snapshot.coordinateFallbacks
            ),
        ]
        return rows.map { name, type, help, value in
            "# HELP kafka_once_\(name) \(help)\n# TYPE kafka_once_\(name) \(type)\n"
                + "kafka_once_\(name)\(labelText) \(value)\n"
        }.joined()
    }

    private static func escape(_ value: String) -> String {
        value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "\n", with: "\\n")
    }
}

extension Atomic where Value == Int {
    /// Adds `amount`, relaxed: counters need no ordering with other memory.
    func add(_ amount: Int) {
        _ = wrappingAdd(amount, ordering: .relaxed)
    }
}
