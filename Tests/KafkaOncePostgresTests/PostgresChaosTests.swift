import Foundation
import KafkaOnce
import KafkaOncePostgres
import KafkaOnceTesting
import Synchronization
import Testing

/// The runtime on a shared PostgreSQL store, effects written in the record's transaction.
@Suite(.serialized, .postgresServer) struct PostgresChaosTests {
    func harness(messages: Int = 400) throws -> ChaosHarness {
        var options = ChaosHarness.Options()
        options.messages = messages
        options.seed = 5
        options.drainLimit = .seconds(90)
        let url = try #require(PostgresTestServer.url)
        return ChaosHarness(
            subject: .recordingEffects(in: { try await PostgresDeduplicationStore(url: url) }, dialect: .postgres),
            options: options
        )
    }

    @Test(arguments: [ChaosScenario.memberChurn, .zombie, .crashBeforeCommit, .storeOutage, .savepointsRefused])
    func consumersSharingOnePostgresStoreApplyEachIDOnce(_ scenario: ChaosScenario) async throws {
        let report = try await harness().run(scenario)
        #expect(report.skipped == nil)
        #expect(report.lost == 0, "lost: \(report.lostSample)")
        #expect(report.duplicated == 0, "duplicated: \(report.duplicatedSample)")
        #expect(report.commitsAheadOfRecords == 0)
        #expect(report.finalCommitAtHighWatermark)
    }

    @Test func aBackendTerminatedMidStreamLosesNothingAndAppliesNothingTwice() async throws {
        let cluster = try MockKafkaCluster()
        try cluster.createTopic("payments", partitions: 2)
        let ids = (0..<600).map { "payment-\($0)" }
        let producer = try KafkaProducer(configuration: .init(bootstrapServers: cluster.bootstrapServers))
        try await producer.send(
            ids.enumerated().map { index, id in
                KafkaProducerRecord(
                    topic: "payments",
                    partition: Int32(index % 2),
                    value: Array(id.utf8),
                    headers: [KafkaHeader(name: "idempotency-key", text: id)]
                )
            }
        )
        try await producer.close()

        let store = try await PostgresTestServer.makeStore()
        let batch = TestBatch()
        let ledger = try await batch.createLedger(on: store)
        var configuration = EffectivelyOnceConfiguration(
            bootstrapServers: cluster.bootstrapServers,
            groupID: batch.prefix,
            topics: ["payments"]
        )
        configuration.partitions = [0, 1].map { KafkaTopicPartition(topic: "payments", partition: $0) }
        configuration.handlesSignals = false
        configuration.commitInterval = .milliseconds(100)
        let handled = Atomic(0)
        let consumer = EffectivelyOnceConsumer(
            configuration: configuration,
            transactionalStore: store,
            transactionalHandler: { message, context in
                // A unique column: a second effect for one id would fail the transaction loudly.
                try context.transaction.execute(
                    "INSERT INTO \(ledger) (id, amount) VALUES ($1, 1)",
                    [.text(message.valueText ?? "")]
                )
                Thread.sleep(forTimeInterval: 0.001)
                _ = handled.wrappingAdd(1, ordering: .relaxed)
            }
        )
        let running = Task { try await consumer.run() }
        while handled.load(ordering: .relaxed) < 150 { try await Task.sleep(for: .milliseconds(10)) }

        let administrator = try await PostgresTestServer.makeStore()
        let terminated = try await administrator.executeAsAdministrator(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() "
                + "AND pid <> pg_backend_pid() AND backend_type = 'client backend'"
        )
        #expect(!terminated.isEmpty)

        let deadline = ContinuousClock.now + .seconds(60)
        var count = 0
        while ContinuousClock.now < deadline {
            let rows = try await administrator.executeAsAdministrator("SELECT count(*) AS n FROM \(ledger)")
            if case .integer(let n) = rows.first?["n"] { count = Int(n) }
            if count >= ids.count { break }
            try await Task.sleep(for: .milliseconds(200))
        }
        consumer.shutdown()
        try await running.value
        try await administrator.close()
        try await store.close()

        #expect(count == ids.count, "\(ids.count - count) payments were never applied")
    }
}
