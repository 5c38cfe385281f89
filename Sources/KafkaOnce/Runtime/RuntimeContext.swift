import Synchronization

/// How messages are handled: a plain handler, or one inside the store's transaction.
enum Processing: Sendable {
    case plain(MessageHandler)
    case transactional(TransactionalMessageHandler, any TransactionalDeduplicationStore)
}

/// What every partition worker of one run shares.
final class RuntimeContext: Sendable {
    let configuration: EffectivelyOnceConfiguration
    let store: any DeduplicationStore
    let processing: Processing
    let onDuplicate: DuplicateHandler?
    let metrics: EffectivelyOnceMetrics
    let logger: KafkaOnceLogger
    let owner: String
    let deadLetters: DeadLetterPublisher?
    let testHooks: EffectivelyOnceTestHooks
    /// The messages polled and not yet done, which hold back the next poll at their limit.
    let buffered: BufferedMessages
    private let failure = Mutex<(any Error)?>(nil)

    init(
        configuration: EffectivelyOnceConfiguration,
        store: any DeduplicationStore,
        processing: Processing,
        onDuplicate: DuplicateHandler?,
        metrics: EffectivelyOnceMetrics,
        logger: KafkaOnceLogger,
        owner: String,
        deadLetters: DeadLetterPublisher?,
        testHooks: EffectivelyOnceTestHooks
    ) {
        self.configuration = configuration
        self.store = store
        self.processing = processing
        self.onDuplicate = onDuplicate
        self.metrics = metrics
        self.logger = logger
        self.owner = owner
        self.deadLetters = deadLetters
        self.testHooks = testHooks
        self.buffered = BufferedMessages(limit: configuration.maxBufferedMessages)
    }

    /// The first error that stopped the run, if any.
    var stopError: (any Error)? { failure.withLock { $0 } }

    /// Stops the run because of `error`; the first error wins and is what `run()` throws.
    func stop(because error: any Error) {
        failure.withLock { current in
            if current == nil { current = error }
        }
    }
}

/// Switches for tests of the runtime and of the chaos harness. Not for production use.
@_spi(Testing)
public struct EffectivelyOnceTestHooks: Sendable {
    /// Called with the offsets of every commit, synchronous or asynchronous, just before it is sent.
    public var beforeCommit: (@Sendable ([KafkaTopicPartitionOffset]) -> Void)?
    /// Breaks the contract on purpose: offsets become committable before the handler runs and
    /// before the outcome is recorded. Lets a test prove that its checks can fail.
    public var commitsBeforeRecording = false

    public init() {}
}

/// Why a partition stops processing without stopping the consumer.
enum PartitionStop: Error {
    /// The partition was revoked or lost.
    case revoked
    /// The store refused a claim or record: another consumer owns the partition now.
    case fenced
}

/// An error that stops the whole consumer.
public struct EffectivelyOnceError: Error, Sendable, CustomStringConvertible {
    /// One line: what stopped the consumer, the message or partition concerned, and what to do.
    public let description: String

    init(_ description: String) {
        self.description = description
    }
}
