import KafkaOnce
import KafkaOncePostgres
import Synchronization

/// One instance of the consumer group, as it would run on its own machine: its own consumer and
/// its own connection to the shared PostgreSQL store.
final class Instance: Sendable {
    let name: String
    let consumer: EffectivelyOnceConsumer
    private let store: PostgresDeduplicationStore
    private let skippedLog: SkippedOrders
    private let task = Mutex<Task<Void, Never>?>(nil)
    private let failure = Mutex<(any Error)?>(nil)

    init(
        name: String,
        configuration: EffectivelyOnceConfiguration,
        postgresURL: String
    ) async throws {
        let store = try await PostgresDeduplicationStore(url: postgresURL)
        let skippedLog = SkippedOrders()
        self.name = name
        self.store = store
        self.skippedLog = skippedLog
        self.consumer = EffectivelyOnceConsumer(
            configuration: configuration,
            transactionalStore: store,
            onDuplicate: { message, _ in
                skippedLog.append(message.header("idempotency-key")?.text ?? "\(message.coordinates)")
            },
            transactionalHandler: { message, context in
                try Charges.charge(Order(from: message), by: name, in: context.transaction)
            }
        )
    }

    /// Joins the group and consumes in the background.
    func start() {
        let running = Task { [self] in
            do {
                try await consumer.run()
            } catch {
                failure.withLock { $0 = error }
            }
        }
        task.withLock { $0 = running }
    }

    /// Leaves the group gracefully (drain, record, commit) and closes the store connection.
    func stop() async throws {
        consumer.shutdown()
        await task.withLock { $0 }?.value
        try await store.close()
        if let error { throw error }
    }

    /// The error that stopped the consumer, if one did.
    var error: (any Error)? { failure.withLock { $0 } }

    /// The orders this instance skipped as charged already, as its duplicate hook saw them.
    var skippedOrders: [String] { skippedLog.orders.withLock { $0 } }

    /// Messages this instance processed.
    var processed: Int { consumer.metrics.snapshot().processed }

    /// Messages this instance skipped as duplicates.
    var skipped: Int { consumer.metrics.snapshot().duplicatesSkipped }
}

/// The orders an instance skipped, appended to by its duplicate hook.
final class SkippedOrders: Sendable {
    let orders = Mutex<[String]>([])

    func append(_ order: String) {
        orders.withLock { $0.append(order) }
    }
}
