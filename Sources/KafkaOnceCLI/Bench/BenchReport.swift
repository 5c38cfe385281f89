/// The results of a benchmark run: one row per mode, from the medians of its repetitions.
struct BenchReport: Sendable {
    /// One mode's result.
    struct Row: Sendable {
        var mode: BenchMode
        /// Messages consumed in every repetition (the run fails when any repetition consumed fewer).
        var consumed: Int
        /// The median of the repetitions' times.
        var seconds: Double
        var messagesPerSecond: Double
        /// Throughput relative to the `raw` mode; `nil` when `raw` was not measured.
        var ratioToRaw: Double?
        /// The median processor time of the child, every thread included: what the mode costs
        /// in work, apart from the time it spent waiting.
        var processorSeconds: Double
        /// The highest peak resident memory over the repetitions.
        var peakResidentMegabytes: Double
    }

    var plan: BenchPlan
    var rows: [Row]

    /// Summarises the measurements of every mode, in the plan's order.
    init(plan: BenchPlan, measurements: [BenchMode: [BenchMeasurement]]) {
        self.plan = plan
        let medians = measurements.mapValues { Self.median($0.map(\.seconds)) }
        let rawSeconds = medians[.raw]

        rows = plan.modes.compactMap { mode in
            guard let runs = measurements[mode], let seconds = medians[mode] else { return nil }
            return Row(
                mode: mode,
                consumed: runs.map(\.consumed).min() ?? 0,
                seconds: seconds,
                messagesPerSecond: Double(plan.messages) / seconds,
                ratioToRaw: rawSeconds.map { $0 / seconds },
                processorSeconds: Self.median(runs.map(\.processorSeconds)),
                peakResidentMegabytes: Double(runs.map(\.peakResidentBytes).max() ?? 0) / 1_048_576
            )
        }
    }

    /// The middle value, or the mean of the two middle values of an even count.
    static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        let middle = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
    }

    // MARK: - Output

    /// The one JSON object of `--json`.
    var json: JSONValue {
        [
            "messages": .integer(plan.messages),
            "partitions": .integer(plan.partitions),
            "payload_bytes": .integer(plan.payloadBytes),
            "fetch_wakeup_ms": .integer(plan.fetchWakeupMilliseconds),
            "consumer_properties": .object(
                plan.consumerProperties.sorted { $0.key < $1.key }.map { .init(key: $0.key, value: .string($0.value)) }
            ),
            "rows": .array(
                rows.map { row in
                    [
                        "mode": .string(row.mode.rawValue),
                        "consumed": .integer(row.consumed),
                        "seconds": .number(Self.rounded(row.seconds, places: 4)),
                        "messages_per_second": .integer(Int(row.messagesPerSecond.rounded())),
                        "ratio_to_raw": row.ratioToRaw.map { .number(Self.rounded($0, places: 3)) } ?? .null,
                        "peak_rss_mb": .number(Self.rounded(row.peakResidentMegabytes, places: 1)),
                        "cpu_seconds": .number(Self.rounded(row.processorSeconds, places: 3)),
                    ]
                }
            ),
        ]
    }

    /// The table for people.
    var table: String {
        var table = TextTable(columns: [
            .init("mode"), .init("seconds", alignment: .right), .init("messages/s", alignment: .right),
            .init("ratio to raw", alignment: .right), .init("peak RSS MB", alignment: .right),
            .init("CPU s", alignment: .right),
        ])
        for row in rows {
            table.append([
                row.mode.rawValue,
                Self.fixed(row.seconds, places: 3),
                Self.grouped(Int(row.messagesPerSecond.rounded())),
                row.ratioToRaw.map { Self.fixed($0, places: 2) } ?? "-",
                Self.fixed(row.peakResidentMegabytes, places: 1),
                Self.fixed(row.processorSeconds, places: 2),
            ])
        }
        let header =
            "\(Self.grouped(plan.messages)) messages of \(plan.payloadBytes) bytes over \(plan.partitions) "
            + "partition(s), median of \(plan.repetitions) repetition(s), "
            + (plan.fetchWakeupMilliseconds > 0
                ? "fetch wake-up every \(plan.fetchWakeupMilliseconds) ms at most" : "no fetch wake-up")
            + (plan.consumerProperties.isEmpty
                ? ""
                : "; every consumer with "
                    + plan.consumerProperties.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
                    .joined(separator: ", "))
        return header + "\n\n" + table.rendered()
    }

    static func rounded(_ value: Double, places: Int) -> Double {
        let scale = (0..<places).reduce(1.0) { product, _ in product * 10 }
        return (value * scale).rounded() / scale
    }

    /// `value` with exactly `places` decimals.
    static func fixed(_ value: Double, places: Int) -> String {
        let scale = (0..<places).reduce(1) { product, _ in product * 10 }
        let scaled = Int((value * Double(scale)).rounded())
        guard places > 0 else { return String(scaled) }
        let fraction = String(scaled % scale)
        return "\(scaled / scale)." + String(repeating: "0", count: places - fraction.count) + fraction
    }

    /// `1234567` as `1,234,567`.
    static func grouped(_ value: Int) -> String {
        let digits = Array(String(value))
        var text = ""
        for (index, digit) in digits.enumerated() {
            if index > 0, (digits.count - index) % 3 == 0 { text.append(",") }
            text.append(digit)
        }
        return text
    }
}
