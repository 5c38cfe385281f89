import Foundation

/// The parent side of `kafka-once bench`: fills the topic once, runs every mode in a child
/// process per repetition, and checks that each consumed every message.
struct BenchRunner {
    var plan: BenchPlan

    /// How long a worker waits without progress before it reports what it consumed.
    static let stallSeconds = 60

    func run() async throws -> BenchReport {
        let topic = try BenchTopic(plan: plan)
        defer { topic.cluster.shutdown() }

        Console.log(
            "bench: producing \(BenchReport.grouped(plan.messages)) messages of \(plan.payloadBytes) bytes "
                + "to \(plan.partitions) partition(s) on the embedded broker at \(topic.bootstrapServers)"
        )
        try await topic.fill()
        try await topic.verify()

        var measurements: [BenchMode: [BenchMeasurement]] = [:]
        for repetition in 1...plan.repetitions {
            for mode in plan.modes {
                let label = "\(mode.rawValue) (repetition \(repetition) of \(plan.repetitions))"
                let measurement = try await BenchChildProcess.run(assignment(mode, topic: topic), label: label)
                try check(measurement, label: label)
                Console.log("bench: \(label): \(describe(measurement))")
                measurements[mode, default: []].append(measurement)
            }
        }
        return BenchReport(plan: plan, measurements: measurements)
    }

    private func assignment(_ mode: BenchMode, topic: BenchTopic) -> BenchAssignment {
        BenchAssignment(
            mode: mode,
            bootstrapServers: topic.bootstrapServers,
            topic: topic.name,
            partitions: plan.partitions,
            messages: plan.messages,
            groupID: "\(topic.name)-\(mode.rawValue)-\(UUID().uuidString.prefix(8).lowercased())",
            postgresURL: mode == .postgres ? plan.postgresURL : nil,
            consumerProperties: plan.consumerProperties,
            fetchWakeupMilliseconds: plan.fetchWakeupMilliseconds,
            stallSeconds: Self.stallSeconds
        )
    }

    /// Fails the run when a mode consumed another count than was produced: its time would
    /// measure a different amount of work.
    private func check(_ measurement: BenchMeasurement, label: String) throws {
        guard measurement.consumed == plan.messages else {
            throw CommandFailure(
                "the \(label) run consumed \(measurement.consumed) of \(plan.messages) messages "
                    + "(no progress for \(Self.stallSeconds) s); its time would not be comparable"
            )
        }
    }

    private func describe(_ measurement: BenchMeasurement) -> String {
        let rate = Int((Double(measurement.consumed) / measurement.seconds).rounded())
        return "\(BenchReport.fixed(measurement.seconds, places: 3)) s, \(BenchReport.grouped(rate)) messages/s, "
            + "peak RSS \(BenchReport.fixed(Double(measurement.peakResidentBytes) / 1_048_576, places: 1)) MB, "
            + "CPU \(BenchReport.fixed(measurement.processorSeconds, places: 2)) s"
    }
}
