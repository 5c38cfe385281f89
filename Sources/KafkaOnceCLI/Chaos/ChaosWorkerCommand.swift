import Foundation
import KafkaOnce
import KafkaOnceTesting

/// `kafka-once chaos-worker`: the consumer of the SIGKILL scenario, run in a child process that
/// the harness kills and restarts. Not listed in `--help`.
///
/// It reads every partition of the topic directly (no group join, so a restart is immediate),
/// in transactional mode, writing each effect to the chaos ledger in the record's transaction.
struct ChaosWorkerCommand: Command {
    let name = "chaos-worker"
    let summary = "the consumer the SIGKILL chaos scenario runs in a child process"
    let isHidden = true

    var options: [Option] {
        [
            .value("bootstrap-servers", "SERVERS", required: true, help: "the embedded broker"),
            .value("topic", "TOPIC", required: true, help: "the topic"),
            .value("group", "GROUP", required: true, help: "the group"),
            .value("partitions", "N", required: true, help: "how many partitions the topic has"),
            .value("dead-letter-topic", "TOPIC", required: true, help: "the dead-letter topic"),
            .value("store", "URL", required: true, help: "sqlite:PATH or postgres://…"),
            .value("pacing-microseconds", "N", default: "0", help: "a pause in every handler call"),
        ]
    }

    func run(_ arguments: ParsedArguments) async throws -> Int32 {
        let topic = try arguments.required("topic", as: String.self)
        let partitions = try arguments.value("partitions", default: 1, atLeast: 1)
        var configuration = EffectivelyOnceConfiguration(
            bootstrapServers: try arguments.required("bootstrap-servers", as: String.self),
            groupID: try arguments.required("group", as: String.self),
            topics: [topic]
        )
        configuration.partitions = (0..<partitions).map { KafkaTopicPartition(topic: topic, partition: Int32($0)) }
        configuration.handlesSignals = false
        configuration.commitInterval = .milliseconds(200)
        configuration.failurePolicy = .deadLetter(topic: try arguments.required("dead-letter-topic", as: String.self))

        let location = try arguments.required("store", as: StoreLocation.self)
        guard let store = try await location.open() as? any TransactionalDeduplicationStore else {
            throw UsageError("chaos-worker needs a SQL store, not \(location)")
        }
        let ledger = ChaosLedger(dialect: location.isPostgres ? .postgres : .sqlite)
        let pacing = Double(try arguments.value("pacing-microseconds", default: 0, atLeast: 0)) / 1_000_000
        let consumer = EffectivelyOnceConsumer(
            configuration: configuration,
            transactionalStore: store,
            transactionalHandler: { message, context in
                if pacing > 0 { Thread.sleep(forTimeInterval: pacing) }
                try ledger.record(message, in: context.transaction)
            }
        )
        try await SignalListener.runCancellingOnSignal { try await consumer.run() }
        try await store.close()
        return ExitCode.success
    }
}

extension StoreLocation {
    var isPostgres: Bool {
        if case .postgres = self { true } else { false }
    }
}
