import Foundation
import KafkaOnce

/// The open transaction a ``SQLiteDeduplicationStore/withTransaction(fence:_:)`` body receives.
///
/// It lives on the store's worker thread and only while the body runs; afterwards every call
/// throws ``DeduplicationStoreError/Code/closed``. Each ``claim(_:leaseDuration:)`` and
/// ``finish(_:)`` runs in its own savepoint, so a failed one leaves none of its rows.
final class SQLiteTransaction: DeduplicationTransaction {
    private let connection: SQLiteConnection
    private let fence: PartitionFence
    private var isOpen = true

    init(connection: SQLiteConnection, fence: PartitionFence) {
        self.connection = connection
        self.fence = fence
    }

    /// Makes every later call throw.
    func end() {
        isOpen = false
    }

    private func openConnection() throws -> SQLiteConnection {
        guard isOpen else {
            throw DeduplicationStoreError(
                .closed,
                "the transaction on the SQLite store at '\(connection.path)' for \(fence) has ended; "
                    + "use it only inside the body passed to withTransaction"
            )
        }
        return connection
    }

    // MARK: - Claims and outcomes

    func claim(_ requests: [ClaimRequest], leaseDuration: Duration) throws -> [ClaimOutcome] {
        let connection = try openConnection()
        return try connection.describingFailures("claiming \(requests.count) keys for \(fence.partition)") {
            try connection.inSavepoint {
                try connection.claim(requests, fence: fence, leaseDuration: leaseDuration, now: Date())
            }
        }
    }

    func finish(_ outcomes: [RecordedOutcome]) throws {
        let connection = try openConnection()
        try connection.describingFailures("recording \(outcomes.count) outcomes for \(fence.partition)") {
            try connection.inSavepoint {
                try connection.finish(outcomes, fence: fence, now: Date())
            }
        }
    }

    // MARK: - Savepoints

    func savepoint(_ name: String) throws {
        try execute("SAVEPOINT \(try Self.identifier(name))", [])
    }

    func rollback(toSavepoint name: String) throws {
        try execute("ROLLBACK TO \(try Self.identifier(name))", [])
    }

    func release(savepoint name: String) throws {
        try execute("RELEASE \(try Self.identifier(name))", [])
    }

    /// Quotes a savepoint name as an SQL identifier.
    private static func identifier(_ name: String) throws -> String {
        guard !name.isEmpty else {
            throw DeduplicationStoreError(.invalidArgument, "a savepoint name is empty; name the savepoint")
        }
        return "\"" + name.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    // MARK: - The handler's own statements

    @discardableResult
    func execute(_ sql: String, _ parameters: [SQLValue]) throws -> Int {
        let connection = try openConnection()
        return try connection.describingFailures("running '\(sql)'") {
            try connection.prepared(sql).run(parameters)
        }
    }

    func query(_ sql: String, _ parameters: [SQLValue]) throws -> [SQLRow] {
        let connection = try openConnection()
        return try connection.describingFailures("running '\(sql)'") {
            let statement = try connection.prepared(sql)
            let columns = statement.columnNames
            var rows: [SQLRow] = []
            try statement.forEachRow(parameters) { row in
                rows.append(SQLRow(columns: columns, values: row.values))
            }
            return rows
        }
    }
}
