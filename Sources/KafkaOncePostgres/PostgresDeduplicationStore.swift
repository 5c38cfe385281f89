import Foundation
import KafkaOnce
import Synchronization

/// A deduplication store in PostgreSQL, shared by every instance of a consumer group.
///
/// This is how a consumer scales out: all instances point at one database, and a partition that
/// moves to another instance keeps its history. Fencing is by partition epoch: every assignment
/// increases the partition's epoch, and each claim, finish and transaction first locks the
/// partition row `FOR SHARE` and checks the epoch, so a consumer that lost its partition (a zombie)
/// cannot record anything after the new owner's ``acquire(_:owner:)``.
///
/// ```swift
/// let store = try await PostgresDeduplicationStore(url: "postgres://app@db:5432/orders")
/// ```
///
/// The store creates its tables (`kafka_once_records`, `kafka_once_partitions`,
/// `kafka_once_schema_version`) on first use. Each store holds one connection, used from its own
/// thread, so libpq never blocks the Swift concurrency pool:
///
/// - A claim costs two round trips and a finish one, whatever the batch size: batches travel as
///   arrays expanded with `unnest`, in pipelined statements.
/// - Claims and finishes that different partitions submit while the connection is busy share
///   one transaction and one commit (group commit). So do ``withTransaction(fence:_:)`` calls,
///   each behind a savepoint of its own.
/// - A lost connection (a restarted server, a terminated backend) is re-established with
///   exponential backoff for up to 10 s; a claim, finish or read that it interrupted runs once
///   more, which is safe because each is idempotent or was rolled back as a whole.
///
/// To keep the tables of several applications apart in one database, give each its own schema
/// through the URL: `postgres://app@db/orders?options=-c%20search_path%3Dpayments`.
///
/// - Important: The store keeps an open transaction's partition rows locked `FOR SHARE` until it
///   ends, so a rebalance's ``acquire(_:owner:)`` waits for the previous owner's transaction. A
///   zombie whose process hangs inside ``withTransaction(fence:_:)`` holds the acquire until its
///   connection dies; set `idle_in_transaction_session_timeout` on the server to bound that.
/// - Important: The store prepares its statements once per connection. Behind PgBouncer, use
///   session pooling, or transaction pooling with PgBouncer 1.21 or later and
///   `max_prepared_statements` set.
public final class PostgresDeduplicationStore: TransactionalDeduplicationStore {
    /// Claims and finishes waiting for the next group commit carry at most this many keys together.
    static let groupCommitLimit = 20_000
    /// ``withTransaction(fence:_:)`` calls waiting for the store's thread share one PostgreSQL
    /// transaction, at most this many together. Each call that writes takes a subtransaction (its
    /// savepoint), and PostgreSQL keeps track of 64 per transaction cheaply.
    static let transactionGroupLimit = 64

    let location: PostgresLocation
    let session: PostgresSession
    let worker: BlockingWorker
    let pendingWrites = PostgresWriteQueue()
    let pendingTransactions = PostgresTransactionQueue()
    private let isClosed = Mutex(false)

    /// Connects to the server and creates or migrates the store's tables.
    ///
    /// - Parameter url: A `postgres://user:password@host:port/database` URL or libpq `key=value`
    ///   parameters. The connection times out after 5 s unless the URL sets `connect_timeout`.
    /// - Throws: ``/KafkaOnce/DeduplicationStoreError`` with
    ///   ``/KafkaOnce/DeduplicationStoreError/Code/invalidArgument`` for a malformed URL,
    ///   ``/KafkaOnce/DeduplicationStoreError/Code/unavailable`` when the server cannot be reached
    ///   or refuses the login, ``/KafkaOnce/DeduplicationStoreError/Code/unusable`` when the tables
    ///   cannot be created. Messages show the URL without its password.
    public init(url: String) async throws {
        let location = try PostgresLocation(url)
        let session = PostgresSession(location: location)
        let worker = BlockingWorker(name: "kafka-once.postgres")
        do {
            try await worker.run {
                try session.open()
                try PostgresSchema.prepare(on: session.connected(), location: location)
            }
        } catch let failure as PostgresFailure {
            worker.stop()
            guard failure.isConnectionLost else {
                throw failure.storeError("create the store's tables", at: location)
            }
            throw DeduplicationStoreError(
                .unavailable,
                "cannot connect to the PostgreSQL store at '\(location.redacted)': \(failure.message); "
                    + "check the URL and that the server is running"
            )
        } catch {
            worker.stop()
            throw error
        }
        self.location = location
        self.session = session
        self.worker = worker
    }

    deinit {
        worker.stop()
    }

    /// Runs `body` on the store's thread with its session, turning libpq failures into errors that
    /// say what `action` was.
    func perform<Value: Sendable>(
        _ action: String,
        _ body: @escaping @Sendable (PostgresSession) throws -> Value
    ) async throws -> Value {
        try checkOpen()
        do {
            return try await worker.run { [session, location] in
                guard !session.isClosed else { throw Self.closedError(location) }
                return try body(session)
            }
        } catch let failure as PostgresFailure {
            throw failure.storeError(action, at: location)
        } catch let error as KafkaError where error.code == .closed {
            throw Self.closedError(location)
        }
    }

    /// Throws ``/KafkaOnce/DeduplicationStoreError/Code/closed`` after ``close()``.
    func checkOpen() throws(DeduplicationStoreError) {
        if isClosed.withLock({ $0 }) { throw Self.closedError(location) }
    }

    static func closedError(_ location: PostgresLocation) -> DeduplicationStoreError {
        DeduplicationStoreError(
            .closed,
            "the PostgreSQL store at '\(location.redacted)' was closed; create a new store to use it again"
        )
    }

    /// Closes the connection after the claims and finishes already submitted. Calls after this
    /// throw ``/KafkaOnce/DeduplicationStoreError/Code/closed``; closing again does nothing.
    public func close() async throws {
        let wasClosed = isClosed.withLock { closed in
            defer { closed = true }
            return closed
        }
        guard !wasClosed else { return }
        // Queued claims and finishes run first: the worker serves jobs in order.
        _ = try? await worker.run { [session] in session.close() }
        worker.stop()
    }
}
