import Foundation
import KafkaOnce
import Testing

/// `demo`, `run` and `replay`, run as a user runs them: the built executable against an
/// embedded broker served by `kafka-once mock-cluster` in another process.
@Suite(.serialized) struct WorkflowCommandTests {
    @Test func demoChargesEveryOrderOnceThroughRedeliveries() async throws {
        let result = try await ToolProcess.run("demo", "--messages", "1500", "--json", timeout: .seconds(120))
        #expect(result.exitCode == 0, "\(result.standardError)")
        let report = try result.jsonObject()
        let distinct = try #require(report["distinct_ids"] as? Int)
        #expect(report["lost"] as? Int == 0)
        #expect(report["duplicated_effects"] as? Int == 0)
        #expect(report["effects"] as? Int == distinct)
        #expect((report["deliveries"] as? Int ?? 0) > distinct)
        #expect((report["produced"] as? Int ?? 0) > distinct)
    }

    @Test func runExecutesEachCommandOnceAcrossAKillAndDeadLettersAFailingOne() async throws {
        let directory = try TemporaryDirectory()
        let broker = try ToolProcess(["mock-cluster", "--topic", "orders:2", "--topic", "orders.dlq:1"])
        defer { broker.send(SIGTERM) }
        let servers = try await broker.firstLineOfOutput().replacingOccurrences(of: "bootstrap.servers=", with: "")
        let ids = (0..<20).map { "order-\($0)" } + ["poison"]
        try await produce(ids + ["order-3", "order-7"], to: servers)

        let effects = directory.path("effects.txt")
        let command = "if grep -q poison; then exit 3; fi; echo \"$KAFKA_IDEMPOTENCY_KEY\" >> \(effects)"
        let runArguments = [
            "run", "--bootstrap-servers", servers, "--topic", "orders", "--group", "billing",
            "--store", "sqlite:" + directory.path("store.sqlite"), "--retries", "1",
            "--dead-letter-topic", "orders.dlq", "--property", "session.timeout.ms=6000", "--exec", command, "--json",
        ]
        let first = try ToolProcess(runArguments)
        #expect(await eventually { lines(of: effects).count >= 20 })
        first.send(SIGKILL)
        _ = try await first.finish()

        let second = try ToolProcess(runArguments)
        try await Task.sleep(for: .seconds(12))
        second.send(SIGTERM)
        let result = try await second.finish(timeout: .seconds(60))
        #expect(result.exitCode == 0, "\(result.standardError)")

        let applied = lines(of: effects)
        #expect(applied.count == 20, "commands ran \(applied.count) times for 20 orders: \(applied)")
        #expect(Set(applied) == Set(ids.dropLast().map { "billing/id:\($0)" }), "applied: \(applied)")
        #expect(try await deadLetters(on: servers).contains("poison"))
    }

    @Test func replayFromTheBeginningRunsNothingAgainAndTheDryRunSaidSo() async throws {
        let directory = try TemporaryDirectory()
        let broker = try ToolProcess(["mock-cluster", "--topic", "events:1"])
        defer { broker.send(SIGTERM) }
        let servers = try await broker.firstLineOfOutput().replacingOccurrences(of: "bootstrap.servers=", with: "")
        try await produce((0..<10).map { "event-\($0)" }, to: servers, topic: "events")

        let store = "sqlite:" + directory.path("store.sqlite")
        let effects = directory.path("effects.txt")
        let runArguments = [
            "run", "--bootstrap-servers", servers, "--topic", "events", "--group", "audit", "--store", store,
            "--property", "session.timeout.ms=6000", "--exec", "echo x >> \(effects)",
        ]
        let first = try ToolProcess(runArguments)
        #expect(await eventually { lines(of: effects).count >= 10 })
        try await Task.sleep(for: .seconds(2))
        first.send(SIGTERM)
        #expect(try await first.finish(timeout: .seconds(60)).exitCode == 0)

        let dryRun = try await ToolProcess.run(
            "replay",
            "--bootstrap-servers",
            servers,
            "--topic",
            "events",
            "--group",
            "audit",
            "--from-beginning",
            "--store",
            store,
            "--dry-run",
            "--json"
        )
        #expect(dryRun.exitCode == 0, "\(dryRun.standardError)")
        let prediction = try dryRun.jsonObject()
        #expect(prediction["would_skip"] as? Int == 10)
        #expect(prediction["would_run"] as? Int == 0)

        let replay = try await ToolProcess.run(
            "replay",
            "--bootstrap-servers",
            servers,
            "--topic",
            "events",
            "--group",
            "audit",
            "--from-beginning"
        )
        #expect(replay.exitCode == 0, "\(replay.standardError)")
        #expect(try await committedOffset(of: "audit", topic: "events", on: servers) == 0)

        let second = try ToolProcess(runArguments + ["--json"])
        try await Task.sleep(for: .seconds(20))
        second.send(SIGTERM)
        let result = try await second.finish(timeout: .seconds(60))
        #expect(lines(of: effects).count == 10, "a replayed message ran its command again")
        let metrics = try result.jsonObject()
        #expect(metrics["duplicates_skipped"] as? Int == 10)
    }

    @Test func anUnreachableBrokerIsAOneLineErrorAndNothingIsWrittenToTheStore() async throws {
        let directory = try TemporaryDirectory()
        let result = try await ToolProcess.run(
            "run",
            "--bootstrap-servers",
            "127.0.0.1:1",
            "--topic",
            "t",
            "--group",
            "g",
            "--store",
            "sqlite:" + directory.path("store.sqlite"),
            "--exec",
            "true"
        )
        #expect(result.exitCode == 1)
        #expect(result.standardError.contains("127.0.0.1:1"))
        let lines = result.standardError.split(separator: "\n").filter { $0.hasPrefix("kafka-once") }
        #expect(lines.count == 1)
        let stats = try await ToolProcess.run(
            "store",
            "stats",
            "--store",
            "sqlite:" + directory.path("store.sqlite"),
            "--json"
        )
        #expect(try stats.jsonObject()["total"] as? Int == 0)
    }

    @Test func anUnwritableSQLitePathIsAOneLineErrorWithTheRuntimeFailureCode() async throws {
        let result = try await ToolProcess.run(
            "run",
            "--bootstrap-servers",
            "127.0.0.1:1",
            "--topic",
            "t",
            "--group",
            "g",
            "--store",
            "sqlite:/nonexistent-directory/store.sqlite",
            "--exec",
            "true"
        )
        #expect(result.exitCode == 1)
        #expect(result.standardError.contains("/nonexistent-directory/store.sqlite"))
    }
}

// MARK: - Helpers

private func produce(_ ids: [String], to servers: String, topic: String = "orders") async throws {
    let producer = try KafkaProducer(configuration: KafkaProducerConfiguration(bootstrapServers: servers))
    try await producer.send(
        ids.map { id in
            KafkaProducerRecord(
                topic: topic,
                key: Array(id.utf8),
                value: Array("{\"id\":\"\(id)\"}".utf8),
                headers: [KafkaHeader(name: "idempotency-key", text: id)]
            )
        }
    )
    try await producer.close()
}

private func committedOffset(of group: String, topic: String, on servers: String) async throws -> Int64? {
    let consumer = try KafkaConsumer(
        configuration: KafkaConsumerConfiguration(bootstrapServers: servers, groupID: group)
    )
    let committed = try await consumer.committed([KafkaTopicPartition(topic: topic, partition: 0)])
    try await consumer.close()
    return committed.first?.offset
}

private func lines(of path: String) -> [String] {
    ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
}

private func deadLetters(on servers: String) async throws -> [String] {
    let consumer = try KafkaConsumer(
        configuration: KafkaConsumerConfiguration(bootstrapServers: servers, groupID: "dlq")
    )
    try await consumer.assign([KafkaTopicPartitionOffset(topic: "orders.dlq", partition: 0, offset: 0)])
    var keys: [String] = []
    let deadline = ContinuousClock.now + .seconds(10)
    while keys.isEmpty && ContinuousClock.now < deadline {
        keys += try await consumer.poll(timeout: .milliseconds(200)).compactMap { $0.header("idempotency-key")?.text }
    }
    try await consumer.close()
    return keys
}

private func eventually(within limit: Duration = .seconds(40), _ condition: () -> Bool) async -> Bool {
    let deadline = ContinuousClock.now + limit
    while ContinuousClock.now < deadline {
        if condition() { return true }
        try? await Task.sleep(for: .milliseconds(100))
    }
    return condition()
}
