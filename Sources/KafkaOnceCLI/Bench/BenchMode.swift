/// One way of consuming the benchmark topic, measured in a process of its own.
enum BenchMode: String, CaseIterable, Codable, Sendable, ArgumentValue {
    /// The plain poll loop of ``KafkaConsumer``: the limit on this machine.
    case raw
    /// The runtime with a store that remembers nothing: its own cost without deduplication.
    case none
    /// The runtime with the in-memory store.
    case memory
    /// The runtime with the SQLite store, in transactional mode: one transaction per poll batch.
    case sqlite
    /// The runtime with the SQLite store, in plain mode: each outcome durable before the next
    /// message of its partition, partitions sharing syncs.
    case sqlitePlain = "sqlite-plain"
    /// The runtime with the PostgreSQL store, in transactional mode.
    case postgres

    init?(argument: String) {
        self.init(rawValue: argument)
    }

    static var expectation: String {
        "a comma-separated list of " + ParsedArguments.joined(allCases.map(\.rawValue), conjunction: "and")
    }

    /// The modes run when `--modes` is absent.
    static func defaults(withPostgres: Bool) -> [BenchMode] {
        [.raw, .none, .memory, .sqlite] + (withPostgres ? [.postgres] : [])
    }

    /// Whether the mode runs the effectively-once runtime (every mode but ``raw``).
    var usesRuntime: Bool { self != .raw }
}
