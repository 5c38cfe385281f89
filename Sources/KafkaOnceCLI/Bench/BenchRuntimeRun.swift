import KafkaOnce

/// The runtime modes: an ``EffectivelyOnceConsumer`` reading every partition directly (no group
/// join), timed from `run()` until the metrics count every message processed.
///
/// The handler does nothing, so what is measured is the runtime and its store. The store is
/// opened before the clock starts and removed after it stopped.
enum BenchRuntimeRun {
    static func measure(_ assignment: BenchAssignment) async throws -> BenchMeasurement {
        let store = try await BenchStore.open(for: assignment)
        let consumer = makeConsumer(assignment, store: store)
        let watch = BenchProgressWatch()

        let started = ContinuousClock.now
        let startedProcessorSeconds = BenchResourceUsage.processorSeconds()
        let running = Task {
            // A run that ends early (a store failure) ends the watch too.
            defer { watch.cancel() }
            try await consumer.run()
        }
        let progress = await watch.wait(for: assignment.messages, stallTimeout: .seconds(assignment.stallSeconds)) {
            consumer.metrics.snapshot().processed
        }
        let processorSeconds = BenchResourceUsage.processorSeconds() - startedProcessorSeconds
        if progress.ending == .stalled {
            // Where the messages stopped: never delivered by librdkafka, or delivered and not done.
            let metrics = consumer.metrics.snapshot()
            Console.log(
                "bench: \(assignment.mode.rawValue) stalled: \(metrics.deliveries) delivered, "
                    + "\(metrics.processed) processed, \(metrics.inFlight) in flight, "
                    + "\(metrics.storeRetries) store retries, \(metrics.commits) commits"
            )
        }
        consumer.shutdown()
        let outcome = await running.result
        let peakResidentBytes = BenchResourceUsage.peakResidentBytes()

        // The run's own failure, if any, is the one to report; a failed cleanup comes second.
        var cleanupFailure: (any Error)?
        do {
            try await store.remove()
        } catch {
            cleanupFailure = error
        }
        try outcome.get()
        if let cleanupFailure { throw cleanupFailure }
        return BenchMeasurement(
            mode: assignment.mode,
            consumed: progress.count,
            seconds: (progress.instant - started).seconds,
            processorSeconds: processorSeconds,
            peakResidentBytes: peakResidentBytes
        )
    }

    private static func makeConsumer(_ assignment: BenchAssignment, store: BenchStore) -> EffectivelyOnceConsumer {
        var configuration = EffectivelyOnceConfiguration(
            bootstrapServers: assignment.bootstrapServers,
            groupID: assignment.groupID,
            topics: [assignment.topic]
        )
        configuration.partitions = assignment.topicPartitions
        configuration.handlesSignals = false
        configuration.consumer.properties.merge(assignment.consumerProperties) { _, given in given }
        configuration.consumer.fetchWakeupInterval = assignment.fetchWakeupInterval

        switch store {
        case .discarding(let store):
            return EffectivelyOnceConsumer(configuration: configuration, store: store) { _, _ in }
        case .memory(let store):
            return EffectivelyOnceConsumer(configuration: configuration, store: store) { _, _ in }
        case .sqlite(let store, _) where assignment.mode == .sqlitePlain:
            return EffectivelyOnceConsumer(configuration: configuration, store: store) { _, _ in }
        case .sqlite(let store, _):
            return EffectivelyOnceConsumer(
                configuration: configuration,
                transactionalStore: store,
                transactionalHandler: { _, _ in }
            )
        case .postgres(let store, _):
            return EffectivelyOnceConsumer(
                configuration: configuration,
                transactionalStore: store,
                transactionalHandler: { _, _ in }
            )
        }
    }
}
