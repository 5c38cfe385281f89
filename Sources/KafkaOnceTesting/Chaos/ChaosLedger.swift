import KafkaOnce
import Synchronization

/// Where a handler under test writes its effects, so the harness counts what really happened
/// rather than what the runtime believes.
///
/// In plain mode call ``record(_:)``; in transactional mode call
/// ``record(_:in:)`` with the handler's transaction, so the effect commits with the dedup record.
public final class ChaosLedger: Sendable {
    /// The header that carries each message's unique chaos id.
    public static let idHeader = "chaos-id"
    /// The table of effects in transactional mode.
    public static let table = "kafka_once_chaos_ledger"

    private let effects = Mutex<[String: Int]>([:])
    let dialect: SQLDialect?

    /// Creates a ledger; `dialect` is the store's SQL dialect in transactional mode, `nil` in plain mode.
    public init(dialect: SQLDialect?) {
        self.dialect = dialect
    }

    /// The chaos id of a message produced by the harness.
    public static func id(of message: KafkaMessage) -> String? {
        message.header(idHeader)?.text
    }

    /// Records one effect of `message` in memory (plain mode).
    public func record(_ message: KafkaMessage) {
        guard let id = Self.id(of: message) else { return }
        effects.withLock { $0[id, default: 0] += 1 }
    }

    /// Records one effect of `message` in the handler's transaction (transactional mode).
    public func record(_ message: KafkaMessage, in transaction: any SQLExecutor) throws {
        guard let id = Self.id(of: message), let dialect else { return }
        try transaction.execute("INSERT INTO \(Self.table) (id) VALUES (\(dialect.placeholder(1)))", [.text(id)])
    }

    /// Effects counted in memory.
    var memoryEffects: [String: Int] { effects.withLock { $0 } }

    /// Effects counted in the store's ledger table, read through a transaction of its own.
    static func storedEffects(in store: any TransactionalDeduplicationStore) async throws -> [String: Int] {
        let partition = KafkaTopicPartition(topic: "kafka-once-chaos-ledger", partition: 0)
        let owner = "chaos-ledger-reader"
        let epoch = try await store.acquire([partition], owner: owner)[partition] ?? 1
        let rows = try await store.withTransaction(
            fence: PartitionFence(partition: partition, owner: owner, epoch: epoch)
        ) {
            transaction in
            try transaction.query("SELECT id, COUNT(*) AS effects FROM \(table) GROUP BY id", [])
        }
        var effects: [String: Int] = [:]
        for row in rows {
            guard case .text(let id) = row["id"], case .integer(let count) = row["effects"] else { continue }
            effects[id] = Int(count)
        }
        return effects
    }

    /// Creates the ledger table when it is missing.
    static func prepare(_ store: any TransactionalDeduplicationStore) async throws {
        let partition = KafkaTopicPartition(topic: "kafka-once-chaos-ledger", partition: 0)
        let owner = "chaos-ledger-setup"
        let epoch = try await store.acquire([partition], owner: owner)[partition] ?? 1
        try await store.withTransaction(fence: PartitionFence(partition: partition, owner: owner, epoch: epoch)) {
            transaction in
            try transaction.execute("CREATE TABLE IF NOT EXISTS \(table) (id TEXT NOT NULL)", [])
        }
    }
}

/// How a SQL store spells statement parameters.
public enum SQLDialect: Sendable {
    /// `?`, as SQLite.
    case sqlite
    /// `$1`, as PostgreSQL.
    case postgres

    /// The placeholder of parameter number `index`, from 1.
    public func placeholder(_ index: Int) -> String {
        switch self {
        case .sqlite: "?"
        case .postgres: "$\(index)"
        }
    }
}
