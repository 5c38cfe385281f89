import Foundation
import Synchronization

/// A Kafka consumer that runs its handler once per message, even when Kafka redelivers.
///
/// For each message it derives an idempotency key, claims the key in the store, runs the handler
/// only for a new key, records the outcome, and commits the offset only after the outcome is
/// durable. A crash, a rebalance or a duplicate produce then never applies a recorded effect twice
/// and never loses a message.
///
/// ```swift
/// let consumer = EffectivelyOnceConsumer(
///     configuration: .init(bootstrapServers: "localhost:9092", groupID: "payments", topics: ["orders"]),
///     store: try SQLiteDeduplicationStore(path: "payments.sqlite")
/// ) { message, context in
///     try await payments.charge(message.value, idempotencyKey: context.idempotencyKey)
/// }
/// try await consumer.run()  // until SIGINT or SIGTERM
/// ```
///
/// - Important: In plain mode, an effect that happened just before a crash, and whose outcome was
///   not yet recorded, happens again after the restart (the key is then "maybe applied", see
///   ``AbandonedClaimPolicy``). Close that window by passing ``MessageContext/idempotencyKey``
///   downstream, or by using a transactional handler, whose statements commit with the record.
public final class EffectivelyOnceConsumer: Sendable {
    /// The settings the consumer runs with.
    public let configuration: EffectivelyOnceConfiguration
    /// Counters and gauges, readable at any time.
    public let metrics = EffectivelyOnceMetrics()
    private let store: any DeduplicationStore
    private let processing: Processing
    private let onDuplicate: DuplicateHandler?
    private let logger: KafkaOnceLogger
    private let testHooks: EffectivelyOnceTestHooks
    private let lifecycle = Mutex(Lifecycle())

    /// The running session, and a stop asked for before `run()` got to start one.
    private struct Lifecycle {
        var session: ConsumerSession?
        var pendingStop: PendingStop?
    }

    private enum PendingStop {
        case shutdown
        case abort
    }

    /// Creates a consumer whose handler runs outside the store (plain mode).
    ///
    /// - Parameters:
    ///   - configuration: Brokers, group, topics and policies.
    ///   - store: Where outcomes are recorded.
    ///   - logger: Lifecycle steps at `debug`, dead letters and skips at `warning` and above.
    ///   - onDuplicate: Called for each message skipped as a duplicate, with its record.
    ///   - handler: Runs once per new message. Throw to fail the attempt.
    public convenience init(
        configuration: EffectivelyOnceConfiguration,
        store: any DeduplicationStore,
        logger: KafkaOnceLogger = .disabled,
        onDuplicate: DuplicateHandler? = nil,
        handler: @escaping MessageHandler
    ) {
        self.init(
            configuration: configuration,
            store: store,
            processing: .plain(handler),
            logger: logger,
            onDuplicate: onDuplicate,
            testHooks: EffectivelyOnceTestHooks()
        )
    }

    /// Creates a consumer whose handler runs inside the store's transaction (transactional mode):
    /// its statements and the key's record commit together, or neither does.
    ///
    /// Messages of a poll batch share one transaction, so a crash rolls all of them back, effects
    /// and records alike: this is both the safest and the fastest mode.
    ///
    /// - Parameters:
    ///   - configuration: The Kafka consumer, topics and policies.
    ///   - store: The SQL store whose transactions hold the records and the handler's statements;
    ///     its label, `transactionalStore:`, is what selects this mode.
    ///   - logger: Where the runtime's log lines go; disabled by default.
    ///   - onDuplicate: Called for each message skipped as a duplicate, with the first record.
    ///   - transactionalHandler: Runs synchronously on the store's thread; use
    ///     ``TransactionalContext/transaction`` for every write that must happen once.
    ///
    /// ```swift
    /// let consumer = EffectivelyOnceConsumer(configuration: configuration, transactionalStore: store) {
    ///     message, context in
    ///     try context.transaction.execute("INSERT INTO charges (order_id) VALUES (?)", [.text(context.idempotencyKey)])
    /// }
    /// ```
    public convenience init(
        configuration: EffectivelyOnceConfiguration,
        transactionalStore store: some TransactionalDeduplicationStore,
        logger: KafkaOnceLogger = .disabled,
        onDuplicate: DuplicateHandler? = nil,
        transactionalHandler: @escaping TransactionalMessageHandler
    ) {
        self.init(
            configuration: configuration,
            store: store,
            processing: .transactional(transactionalHandler, store),
            logger: logger,
            onDuplicate: onDuplicate,
            testHooks: EffectivelyOnceTestHooks()
        )
    }

    /// Creates a consumer with test switches; see ``EffectivelyOnceTestHooks``.
    @_spi(Testing)
    public convenience init(
        configuration: EffectivelyOnceConfiguration,
        store: any DeduplicationStore,
        logger: KafkaOnceLogger = .disabled,
        testHooks: EffectivelyOnceTestHooks,
        handler: @escaping MessageHandler
    ) {
        self.init(
            configuration: configuration,
            store: store,
            processing: .plain(handler),
            logger: logger,
            onDuplicate: nil,
            testHooks: testHooks
        )
    }

    /// Creates a transactional consumer with test switches; see ``EffectivelyOnceTestHooks``.
    @_spi(Testing)
    public convenience init(
        configuration: EffectivelyOnceConfiguration,
        transactionalStore store: some TransactionalDeduplicationStore,
        logger: KafkaOnceLogger = .disabled,
        testHooks: EffectivelyOnceTestHooks,
        transactionalHandler: @escaping TransactionalMessageHandler
    ) {
        self.init(
            configuration: configuration,
            store: store,
            processing: .transactional(transactionalHandler, store),
            logger: logger,
            onDuplicate: nil,
            testHooks: testHooks
        )
    }

    private init(
        configuration: EffectivelyOnceConfiguration,
        store: any DeduplicationStore,
        processing: Processing,
        logger: KafkaOnceLogger,
        onDuplicate: DuplicateHandler?,
        testHooks: EffectivelyOnceTestHooks
    ) {
        self.configuration = configuration
        self.store = store
        self.processing = processing
        self.logger = logger
        self.onDuplicate = onDuplicate
        self.testHooks = testHooks
    }

    /// Consumes until ``shutdown()``, task cancellation, or (by default) SIGINT or SIGTERM, then
    /// drains in-flight messages, records them, commits, and leaves the group.
    ///
    /// - Throws: A one-line error when the brokers cannot be reached at start, when the store
    ///   fails beyond its retry limit, or when a message fails under ``FailurePolicy/stop``.
    ///   Nothing that was not recorded is committed in any case.
    public func run() async throws {
        let context = RuntimeContext(
            configuration: configuration,
            store: store,
            processing: processing,
            onDuplicate: onDuplicate,
            metrics: metrics,
            logger: logger,
            owner: Self.makeOwnerID(),
            deadLetters: try makeDeadLetterPublisher(),
            testHooks: testHooks
        )
        let session = ConsumerSession(context: context)
        try lifecycle.withLock { lifecycle in
            guard lifecycle.session == nil else {
                throw EffectivelyOnceError("run() was called while the consumer is already running")
            }
            lifecycle.session = session
            switch lifecycle.pendingStop {
            case .shutdown: session.requestStop()
            case .abort: session.abort()
            case nil: break
            }
            lifecycle.pendingStop = nil
        }
        defer { lifecycle.withLock { $0.session = nil } }

        var signals: SignalWatcher.Registration?
        if configuration.handlesSignals {
            signals = await SignalWatcher.shared.register { [logger] signal in
                logger.log(.info, "signal received, shutting down", metadata: ["signal": String(signal)])
                session.requestStop()
            }
        }
        defer { signals?.cancel() }

        try await withTaskCancellationHandler {
            try await session.run()
        } onCancel: {
            session.requestStop()
        }
    }

    /// Asks the consumer to stop gracefully; ``run()`` returns once it has. Called before
    /// ``run()`` has started, it makes that run stop at once.
    public func shutdown() {
        lifecycle.withLock { lifecycle in
            if let session = lifecycle.session {
                session.requestStop()
            } else {
                lifecycle.pendingStop = .shutdown
            }
        }
    }

    /// Stops a running consumer as a crash would: nothing more is committed and the group is not
    /// left, so its partitions are redelivered after the session timeout. For chaos tests.
    @_spi(Testing)
    public func abort() {
        lifecycle.withLock { lifecycle in
            if let session = lifecycle.session {
                session.abort()
            } else {
                lifecycle.pendingStop = .abort
            }
        }
    }

    private func makeDeadLetterPublisher() throws -> DeadLetterPublisher? {
        guard case .deadLetter = configuration.failurePolicy else { return nil }
        return try DeadLetterPublisher(
            bootstrapServers: configuration.consumer.bootstrapServers,
            properties: configuration.deadLetterProducerProperties,
            logger: logger
        )
    }

    /// `host/pid/random`: unique per run, readable in the store.
    private static func makeOwnerID() -> String {
        let host = ProcessInfo.processInfo.hostName
        let process = ProcessInfo.processInfo.processIdentifier
        let random = UInt32.random(in: 0...UInt32.max)
        return "\(host)/\(process)/\(String(random, radix: 16))"
    }
}
