/// Retries transient failures of the store and of the dead-letter producer, within the
/// configured limit, and turns everything else into a decision: fenced, revoked, or stop.
enum StoreRetry {
    static func run<Value: Sendable>(
        _ what: String,
        worker: PartitionWorker,
        context: RuntimeContext,
        _ body: @Sendable () async throws -> Value
    ) async throws -> Value {
        // Read the clock only once something failed: the first call nearly always succeeds.
        var deadline: ContinuousClock.Instant?
        var wait: Duration = .milliseconds(50)
        while true {
            do {
                return try await body()
            } catch let error as DeduplicationStoreError where error.code == .fenced {
                throw PartitionStop.fenced
            } catch {
                let now = ContinuousClock.now
                let giveUpAt = deadline ?? now + context.configuration.storeRetryLimit
                deadline = giveUpAt
                guard isTransient(error), now + wait < giveUpAt else {
                    throw EffectivelyOnceError(
                        "\(what) failed for \(worker.partition): \(error); nothing past the last recorded message "
                            + "was committed"
                    )
                }
                guard !worker.revoked else { throw PartitionStop.revoked }
                context.metrics.storeRetries.add(1)
                context.logger.log(
                    .info,
                    "transient failure, retrying",
                    metadata: ["kafka_once.operation": what, "kafka_once.error": "\(error)"]
                )
                try await Task.sleep(for: wait)
                wait = min(wait * 2, .seconds(2))
            }
        }
    }

    private static func isTransient(_ error: any Error) -> Bool {
        switch error {
        case let error as DeduplicationStoreError: error.isRetriable
        case let error as KafkaError: error.isRetriable || error.code == .timedOut
        default: false
        }
    }
}
