import class Foundation.FileManager
import struct Foundation.ObjCBool
import struct Foundation.URL

/// What one `kafka-once bench` run measures, checked before the broker starts.
struct BenchPlan: Sendable {
    /// Messages produced once and consumed by every mode.
    var messages: Int
    /// Partitions of the benchmark topic; messages go round robin over them.
    var partitions: Int
    /// The size of every message's value.
    var payloadBytes: Int
    /// The modes, in the order each repetition runs them.
    var modes: [BenchMode]
    /// The PostgreSQL store of the `postgres` mode.
    var postgresURL: String?
    /// How many times each mode runs; the median is reported.
    var repetitions: Int
    /// Where to write the bar chart, if anywhere.
    var chartPath: String?
    /// librdkafka consumer properties every mode's consumer gets.
    var consumerProperties: [String: String]
    /// Every consumer's ``/KafkaOnce/KafkaConsumerConfiguration/fetchWakeupInterval``, in
    /// milliseconds; 0 for none.
    var fetchWakeupMilliseconds: Int

    /// The plan of an invocation's options.
    ///
    /// - Throws: ``UsageError`` naming the option for a value out of range, an unknown mode, a
    ///   `postgres` mode without `--postgres`, a chart in a missing directory, or a topic bigger
    ///   than the embedded broker keeps.
    init(_ arguments: ParsedArguments) throws(UsageError) {
        messages = try arguments.value("messages", default: 1_000_000, atLeast: 1)
        partitions = try arguments.value("partitions", default: 32, atLeast: 1)
        payloadBytes = try arguments.value("payload-bytes", default: 100, atLeast: 0)
        repetitions = try arguments.value("repetitions", default: 3, atLeast: 1)
        postgresURL = arguments.string("postgres")
        chartPath = arguments.string("svg")
        consumerProperties = try arguments.consumerProperties()
        fetchWakeupMilliseconds = try arguments.value("fetch-wakeup", default: 50, atLeast: 0)

        let listed = try arguments.list("modes", as: BenchMode.self)
        let requested = listed.isEmpty ? BenchMode.defaults(withPostgres: postgresURL != nil) : listed
        // Each mode once, in the order first given.
        modes = requested.enumerated()
            .filter { requested.firstIndex(of: $0.element) == $0.offset }
            .map(\.element)

        try checkPostgres(modesWereListed: !listed.isEmpty)
        try checkChartDirectory()
        try checkRetention()
    }

    /// How many messages partition `partition` receives.
    func messages(inPartition partition: Int) -> Int {
        messages / partitions + (partition < messages % partitions ? 1 : 0)
    }

    // MARK: - Checks

    private func checkPostgres(modesWereListed: Bool) throws(UsageError) {
        if modes.contains(.postgres), postgresURL == nil {
            throw UsageError(
                "the postgres mode needs --postgres URL, such as postgres://postgres@127.0.0.1:5432/bench"
            )
        }
        if modesWereListed, postgresURL != nil, !modes.contains(.postgres) {
            throw UsageError(
                "--postgres is used only by the postgres mode; add postgres to --modes or drop --postgres"
            )
        }
    }

    private func checkChartDirectory() throws(UsageError) {
        guard let chartPath else { return }
        let directory = URL(fileURLWithPath: chartPath).deletingLastPathComponent().path
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw UsageError("cannot write --svg '\(chartPath)': the directory '\(directory)' does not exist")
        }
    }

    /// Refuses a topic whose partitions would outgrow what the embedded broker keeps, since the
    /// broker would drop the oldest messages before any mode reads them.
    private func checkRetention() throws(UsageError) {
        let perPartition = messages(inPartition: 0) * BenchRetention.estimatedRecordBytes(self)
        guard perPartition > BenchRetention.bytesPerPartitionLimit else { return }

        let total = messages * BenchRetention.estimatedRecordBytes(self)
        let neededPartitions =
            (total + BenchRetention.bytesPerPartitionLimit - 1) / BenchRetention.bytesPerPartitionLimit
        throw UsageError(
            "\(messages) messages of \(payloadBytes) bytes over \(partitions) partition(s) would keep about "
                + "\(BenchRetention.megabytes(perPartition)) MB in each partition, more than the embedded broker "
                + "keeps (about 5 MB per partition); use --partitions \(neededPartitions) or more, or fewer --messages"
        )
    }
}
