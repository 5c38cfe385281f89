import KafkaOnce

/// Waiting for a scenario to settle, and checking what it left behind.
enum ChaosDrain {
    /// Waits until every acknowledged id is recorded and every partition's committed offset
    /// reached its high watermark, or `limit` passed.
    ///
    /// - Returns: Whether the final commits reached the high watermarks.
    static func waitUntilIdle(_ run: ChaosRun, production: ChaosProduction, limit: Duration) async -> Bool {
        let deadline = ContinuousClock.now + limit
        let keys = Array(production.acknowledged.compactMap { production.keyOf[$0] })
        while ContinuousClock.now < deadline {
            let recorded: Bool
            if run.scenario.killsChildProcess {
                let finished = (try? await run.store.inner.finishedKeys(among: keys)) ?? []
                recorded = finished.count == keys.count
            } else {
                let durable = run.store.durableKeys.withLock { $0 }
                recorded = keys.allSatisfy(durable.contains)
            }
            if recorded, (try? await commitsReachHighWatermarks(run)) == true { return true }
            try? await Task.sleep(for: .milliseconds(250))
        }
        return (try? await commitsReachHighWatermarks(run)) == true
    }

    static func commitsReachHighWatermarks(_ run: ChaosRun) async throws -> Bool {
        let observer = try KafkaConsumer(
            configuration: KafkaConsumerConfiguration(
                bootstrapServers: run.cluster.bootstrapServers,
                groupID: run.group
            )
        )
        defer { Task { try? await observer.close() } }
        let partitions = (0..<run.partitionCount).map { KafkaTopicPartition(topic: run.topic, partition: Int32($0)) }
        let committed = try await observer.committed(partitions, timeout: .seconds(5))
        for position in committed {
            let (_, high) = try await observer.queryWatermarks(position.topicPartition, timeout: .seconds(5))
            if position.offset != high { return false }
        }
        return true
    }

    /// Counts effects, dead letters, losses and duplicates.
    static func report(
        _ run: ChaosRun,
        production: ChaosProduction,
        drained: Bool,
        faults: [ChaosScenarioReport.InjectedFault],
        inner: any DeduplicationStore
    ) async throws -> ChaosScenarioReport {
        let effects: [String: Int]
        if let store = inner as? any TransactionalDeduplicationStore, run.subject.dialect != nil {
            effects = try await ChaosLedger.storedEffects(in: store).filter { production.acknowledged.contains($0.key) }
        } else {
            effects = run.ledger.memoryEffects
        }
        let deadLettered = try await deadLetteredIDs(run)
        // Only an id the handler always fails for belongs on the dead-letter topic; any other there
        // lost its effect to a fault that should have been retried.
        let poisoned = deadLettered.filter(run.scenario.isPoisoned(id:))
        let lost = production.acknowledged.subtracting(effects.keys).subtracting(poisoned).sorted()
        let duplicated = effects.filter { $0.value > 1 }.keys.sorted()

        return ChaosScenarioReport(
            name: run.scenario.name,
            faults: faults,
            acknowledged: production.acknowledged.count,
            produced: production.produced,
            deliveries: run.deliveries,
            duplicatesSkipped: run.duplicatesSkipped,
            effects: effects.values.reduce(0, +),
            distinct: effects.count,
            deadLettered: deadLettered.count,
            lost: lost.count,
            duplicated: effects.values.reduce(0) { $0 + max(0, $1 - 1) },
            commitsAheadOfRecords: run.commitsAhead.load(ordering: .relaxed),
            finalCommitAtHighWatermark: drained,
            lostSample: Array(lost.prefix(5)),
            duplicatedSample: Array(duplicated.prefix(5)),
            skipped: nil
        )
    }

    /// The chaos ids on the dead-letter topic.
    private static func deadLetteredIDs(_ run: ChaosRun) async throws -> Set<String> {
        let reader = try KafkaConsumer(
            configuration: KafkaConsumerConfiguration(
                bootstrapServers: run.cluster.bootstrapServers,
                groupID: "chaos-reader"
            )
        )
        let partition = KafkaTopicPartition(topic: run.deadLetterTopic, partition: 0)
        let (_, high) = try await reader.queryWatermarks(partition, timeout: .seconds(5))
        try await reader.assign([
            KafkaTopicPartitionOffset(topic: partition.topic, partition: 0, offset: KafkaOffset.beginning)
        ])
        var ids: Set<String> = []
        var read: Int64 = 0
        let deadline = ContinuousClock.now + .seconds(20)
        while read < high && ContinuousClock.now < deadline {
            let messages = try await reader.poll(maxMessages: 1000, timeout: .milliseconds(200))
            read += Int64(messages.count)
            ids.formUnion(messages.compactMap(ChaosLedger.id(of:)))
        }
        try await reader.close()
        return ids
    }
}
