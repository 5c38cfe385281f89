import Foundation

/// `kafka-once bench`: measures throughput side by side against the raw librdkafka consume loop.
///
/// The parent starts the embedded broker, fills one topic, then runs each mode in a child
/// process of its own (this executable again, told what to do through ``BenchAssignment``), so
/// that every mode reads the same messages from the same broker and its peak memory is its own.
struct BenchCommand: Command {
    let name = "bench"
    let summary = "measure throughput side by side with the raw librdkafka consume loop"

    var options: [Option] {
        [
            .value("messages", "N", default: "1000000", help: "messages consumed by every mode"),
            .value("partitions", "P", default: "32", help: "partitions of the benchmark topic"),
            .value("payload-bytes", "B", default: "100", help: "the size of each message's value"),
            .value(
                "modes",
                "LIST",
                default: "raw,none,memory,sqlite, and postgres with --postgres",
                help: "modes among " + BenchMode.allCases.map(\.rawValue).joined(separator: ", ")
            ),
            .value("postgres", "URL", help: "the PostgreSQL database of the postgres mode"),
            .value("repetitions", "R", default: "3", help: "runs of each mode; the median is reported"),
            .repeatable(
                "property",
                "NAME=VALUE",
                help: "a librdkafka consumer property for every mode, such as queued.min.messages=1000000"
            ),
            .value(
                "fetch-wakeup",
                "MS",
                default: "50",
                help: "every consumer's fetchWakeupInterval in milliseconds; 0 turns the wake-up off"
            ),
            .value("svg", "PATH", help: "also write a bar chart of the ratios to this file"),
            .json,
        ]
    }

    var discussion: String {
        """
        Modes: raw is our Kafka layer's poll loop, the limit on this machine; none is the runtime \
        with a store that records nothing (its own cost); memory, sqlite and postgres are the \
        runtime with that store, sqlite and postgres in transactional mode (one transaction per \
        poll batch); sqlite-plain is plain mode, each outcome durable before the next message of \
        its partition.

        The messages are produced once to the embedded broker, which keeps only about 5 MB per \
        partition: a topic that would not fit is refused. Each mode runs in a child process of its \
        own with a fresh consumer group, is timed from its start until every message was consumed \
        (raw) or processed and recorded (runtime), and must consume every message. A child that \
        runs longer than 10 minutes is killed. The PostgreSQL rows the run wrote are deleted after it. \
        raw uses librdkafka's defaults, the runtime modes the runtime's (queued.min.messages=30000); \
        --property values and the Kafka layer's fetch wake-up (--fetch-wakeup) apply to all.

        JSON keys: messages, partitions, payload_bytes, fetch_wakeup_ms, consumer_properties, rows \
        (mode, consumed, seconds, messages_per_second, ratio_to_raw, peak_rss_mb, cpu_seconds).
        """
    }

    func run(_ arguments: ParsedArguments) async throws -> Int32 {
        if let assignment = try BenchAssignment.fromEnvironment() {
            return try await BenchWorker.run(assignment)
        }

        let plan = try BenchPlan(arguments)
        let report = try await BenchRunner(plan: plan).run()

        if let path = plan.chartPath {
            try writeChart(BenchChart(report: report), to: path)
        }
        if arguments.isJSON {
            Console.json(report.json)
        } else {
            Console.output(report.table)
        }
        return ExitCode.success
    }

    private func writeChart(_ chart: BenchChart, to path: String) throws {
        guard let svg = chart.svg() else {
            Console.log("bench: no chart written to '\(path)': the ratios need the raw mode in --modes")
            return
        }
        do {
            try svg.write(toFile: path, atomically: true, encoding: .utf8)
        } catch {
            throw CommandFailure("cannot write the chart to '\(path)': \(error.localizedDescription)")
        }
    }
}
