import struct Foundation.Date

/// Where outcomes are recorded, so a redelivered message is recognised.
///
/// Every call takes a whole poll batch of one partition, so a store costs one round trip per batch,
/// not one per message. Implementations must be safe to call from several tasks at once (one per
/// partition); a durable store should make concurrent ``finish(_:fence:)`` calls from different
/// partitions share one commit (group commit).
///
/// The guarantee the runtime builds on: when ``finish(_:fence:)`` returns, the outcomes are durable.
/// The runtime commits an offset to Kafka only after that.
public protocol DeduplicationStore: Sendable {
    /// Starts a new epoch for each partition, owned by `owner`, and returns it.
    ///
    /// Called when partitions are assigned. Claims and records made under an earlier epoch of the
    /// same partition fail from then on with ``DeduplicationStoreError/Code/fenced``.
    func acquire(_ partitions: [KafkaTopicPartition], owner: String) async throws -> [KafkaTopicPartition: Int64]

    /// Claims keys for one partition's batch, in order, and says for each what to do.
    ///
    /// New keys, and keys abandoned by an owner that lost its partition or its lease, are marked
    /// in progress under `fence` until `leaseDuration` from now. A key already in progress under
    /// `fence` is claimed again, its lease renewed.
    ///
    /// A claim is atomic towards other claims: two partitions claiming overlapping keys at once
    /// must not each win part of them, or each could wait for a key the other holds until the
    /// lease expires (a transaction, or one lock over the keys, gives this).
    ///
    /// - Throws: ``DeduplicationStoreError`` with ``DeduplicationStoreError/Code/fenced`` when
    ///   `fence` is stale.
    func claim(
        _ requests: [ClaimRequest],
        fence: PartitionFence,
        leaseDuration: Duration
    ) async throws
        -> [ClaimOutcome]

    /// Records outcomes durably. Returns only when they are durable.
    ///
    /// - Throws: ``DeduplicationStoreError/Code/fenced`` when `fence` is stale; nothing is recorded then.
    func finish(_ outcomes: [RecordedOutcome], fence: PartitionFence) async throws

    /// Gives up claims this fence made for messages whose handler never started, so that the
    /// partition's next owner claims them as new rather than as maybe applied.
    ///
    /// Each key whose record is in progress under exactly `fence` (its partition, owner and
    /// epoch) is deleted, as if it had never been claimed. Every other record stays as it is:
    /// completed and failed ones, and claims of another partition, owner or epoch. A key without a
    /// record is ignored. The runtime calls this when a partition is revoked, or the consumer
    /// stops, in the middle of a claimed batch, with the keys of the messages it had not started.
    ///
    /// A store without an implementation of its own gets one that releases nothing; the claims then
    /// stay in progress, and the next owner applies its ``AbandonedClaimPolicy`` to them.
    ///
    /// - Important: Pass only keys whose handler never started. The next owner runs a released
    ///   key as new, without ``MessageContext/isMaybeApplied``, whatever its policy.
    /// - Throws: ``DeduplicationStoreError/Code/fenced`` when `fence` is stale, as
    ///   ``claim(_:fence:leaseDuration:)`` and ``finish(_:fence:)`` do; nothing is released then.
    ///   Nothing is written under a stale fence, so a store needs no exception to that rule; the
    ///   new owner already treats such claims by its policy.
    func release(_ keys: [String], fence: PartitionFence) async throws

    /// The record of one key, if there is one.
    func record(for key: String) async throws -> DeduplicationRecord?

    /// Deletes one key's record, so its message is processed again when redelivered.
    ///
    /// - Returns: Whether there was a record.
    @discardableResult
    func forget(_ key: String) async throws -> Bool

    /// Deletes completed and failed records last updated before `cutoff`, at most `batchSize` per
    /// statement so the store stays responsive, until none is left.
    ///
    /// - Returns: How many records were deleted.
    func purge(updatedBefore cutoff: Date, batchSize: Int) async throws -> Int

    /// Counts records by state.
    func statistics() async throws -> DeduplicationStoreStatistics

    /// Tells whether any of `keys` has a completed or failed record, without claiming them.
    /// Used by dry runs.
    func finishedKeys(among keys: [String]) async throws -> Set<String>

    /// Releases connections and files. Calls after this fail.
    func close() async throws
}

extension DeduplicationStore {
    /// Releases nothing: a store that does not implement ``release(_:fence:)`` leaves the claims of
    /// messages whose handler never started in progress, and the partition's next owner treats them
    /// as maybe applied, by its ``AbandonedClaimPolicy``.
    public func release(_ keys: [String], fence: PartitionFence) async throws {}
}

/// A store that can run the handler's own statements in the transaction that records the outcome.
///
/// In transactional mode the runtime calls ``withTransaction(fence:_:)`` once per batch; inside it,
/// claims, the handler's writes, and the outcomes commit together or not at all. The fence is
/// checked inside the same transaction, so a zombie's transaction fails as a whole.
public protocol TransactionalDeduplicationStore: DeduplicationStore {
    /// Runs `body` in one transaction on the store's own thread and commits it when `body` returns.
    ///
    /// - Throws: ``DeduplicationStoreError/Code/fenced`` when `fence` is stale (checked before
    ///   `body` runs and held until commit), or whatever `body` throws; either way the
    ///   transaction is rolled back.
    @discardableResult
    func withTransaction<Value: Sendable>(
        fence: PartitionFence,
        _ body: @escaping @Sendable (any DeduplicationTransaction) throws -> Value
    ) async throws -> Value
}

/// An open store transaction: the store's claim and record calls, and the handler's own SQL.
public protocol DeduplicationTransaction: SQLExecutor {
    /// ``DeduplicationStore/claim(_:fence:leaseDuration:)`` inside the transaction.
    func claim(_ requests: [ClaimRequest], leaseDuration: Duration) throws -> [ClaimOutcome]
    /// ``DeduplicationStore/finish(_:fence:)`` inside the transaction; durable at commit.
    func finish(_ outcomes: [RecordedOutcome]) throws
    /// Marks a point to roll back to when one message's handler fails.
    func savepoint(_ name: String) throws
    /// Undoes everything since the savepoint, which stays in place.
    func rollback(toSavepoint name: String) throws
    /// Forgets the savepoint, keeping what was done since.
    func release(savepoint name: String) throws
}

/// Runs SQL with parameters. Placeholders follow the database: `?` for SQLite, `$1` for PostgreSQL.
public protocol SQLExecutor {
    /// Runs a statement and returns the number of rows it changed.
    @discardableResult
    func execute(_ sql: String, _ parameters: [SQLValue]) throws -> Int
    /// Runs a query and returns its rows.
    func query(_ sql: String, _ parameters: [SQLValue]) throws -> [SQLRow]
}

/// A value bound to, or read from, a SQL statement.
public enum SQLValue: Sendable, Hashable {
    /// SQL `NULL`.
    case null
    /// A 64-bit integer. PostgreSQL's `bool` columns read as 0 or 1.
    case integer(Int64)
    /// A double-precision floating-point number; PostgreSQL's `numeric` columns read as one.
    case real(Double)
    /// UTF-8 text; columns of other types that have no case of their own read as their text.
    case text(String)
    /// Bytes: a SQLite blob or a PostgreSQL `bytea`.
    case blob([UInt8])
}

/// One row of a query's result.
public struct SQLRow: Sendable, Hashable {
    /// The column names, in the order of the query's select list.
    public var columns: [String]
    /// The values, one per column, in the same order.
    public var values: [SQLValue]

    /// Creates a row; `values` must have one value per column.
    public init(columns: [String], values: [SQLValue]) {
        self.columns = columns
        self.values = values
    }

    /// The value of the column named `name`, or ``SQLValue/null`` when there is no such column.
    public subscript(_ name: String) -> SQLValue {
        columns.firstIndex(of: name).map { values[$0] } ?? .null
    }
}

/// A store failure: what failed, on which store, and what to do.
public struct DeduplicationStoreError: Error, Sendable, CustomStringConvertible {
    /// The kind of failure.
    public enum Code: Sendable, Hashable {
        /// The fence is stale: another consumer owns the partition now. Not retriable.
        case fenced
        /// The store is unreachable or busy (a locked file, a lost connection). Retriable.
        case unavailable
        /// The store refuses writes (read-only, disk full, corrupt file). Not retriable.
        case unusable
        /// The location or an argument is malformed.
        case invalidArgument
        /// The store was closed.
        case closed
    }

    /// The kind of failure, which tells whether retrying may help.
    public var code: Code
    /// A one-line explanation that names the store and says what to do.
    public var message: String

    /// Creates an error; stores of your own throw it the same way the bundled ones do.
    ///
    /// - Parameters:
    ///   - code: The kind of failure. The runtime retries ``Code/unavailable`` for up to
    ///     ``EffectivelyOnceConfiguration/storeRetryLimit``, gives up the partition on
    ///     ``Code/fenced``, and stops the consumer on the others.
    ///   - message: What failed, on which store, and what to do.
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    /// Whether the same call may succeed later.
    public var isRetriable: Bool { code == .unavailable }

    /// The ``message`` alone.
    public var description: String { message }
}
