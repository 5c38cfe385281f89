import CSQLite
import Foundation
import KafkaOnce

/// The open transaction a ``SQLiteDeduplicationStore/withTransaction(fence:_:)`` body receives.
///
/// It lives on the store's worker thread and only while the body runs; afterwards every call
/// throws ``/KafkaOnce/DeduplicationStoreError/Code/closed``. Each ``claim(_:leaseDuration:)`` and
/// ``finish(_:)`` runs in its own savepoint, so a failed one leaves none of its rows.
///
/// A claim of a key without a record writes nothing: the key's row is written once, by its
/// outcome, which halves the writes of a message. Claims still without an outcome when the body
/// returns are written as in-progress records before the commit (``writeUnfinishedClaims()``), so
/// what commits is what the claims and outcomes describe.
final class SQLiteTransaction: DeduplicationTransaction {
    private let connection: SQLiteConnection
    private let fence: PartitionFence
    private var isOpen = true
    /// Keys acquired in this transaction whose rows are not written yet, with their lease.
    private var unwrittenClaims: [String: ClaimRequest] = [:]
    private var unwrittenLease: Duration = .zero
    private var lastSavepoint: SavepointStatements?
    /// Whether a statement the body ran ended the transaction: a `ROLLBACK`, or a `COMMIT`, which
    /// the store refuses and SQLite turns into a rollback.
    private(set) var endedTransaction = false

    /// The three statements that set, roll back to and release one savepoint.
    private struct SavepointStatements {
        let name: String
        let set: String
        let rollback: String
        let release: String

        init(name: String, identifier: String) {
            self.name = name
            self.set = "SAVEPOINT " + identifier
            self.rollback = "ROLLBACK TO " + identifier
            self.release = "RELEASE " + identifier
        }
    }

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
        var unwritten = unwrittenClaims
        let outcomes = try connection.describingFailures("claiming \(requests.count) keys for \(fence.partition)") {
            try connection.inSavepoint {
                try connection.claimWithoutWriting(
                    requests,
                    fence: fence,
                    leaseDuration: leaseDuration,
                    now: Date(),
                    unwritten: &unwritten
                )
            }
        }
        // Kept only once the claim succeeded as a whole, like the rows its savepoint keeps.
        unwrittenClaims = unwritten
        unwrittenLease = max(unwrittenLease, leaseDuration)
        return outcomes
    }

    func finish(_ outcomes: [RecordedOutcome]) throws {
        let connection = try openConnection()
        try connection.describingFailures("recording \(outcomes.count) outcomes for \(fence.partition)") {
            try connection.inSavepoint {
                try connection.finish(outcomes, fence: fence, now: Date())
            }
        }
        for outcome in outcomes { unwrittenClaims[outcome.key] = nil }
    }

    /// Writes the in-progress records of the claims that got no outcome; the store calls it when
    /// the body returned, before the transaction commits.
    func writeUnfinishedClaims() throws {
        guard !unwrittenClaims.isEmpty else { return }
        let connection = try openConnection()
        let requests = Array(unwrittenClaims.values)
        try connection.describingFailures("claiming \(requests.count) keys for \(fence.partition)") {
            try connection.inSavepoint {
                _ = try connection.claim(requests, fence: fence, leaseDuration: unwrittenLease, now: Date())
            }
        }
        unwrittenClaims = [:]
    }

    // MARK: - Savepoints

    func savepoint(_ name: String) throws {
        try execute(try statements(forSavepoint: name).set, [])
    }

    func rollback(toSavepoint name: String) throws {
        try execute(try statements(forSavepoint: name).rollback, [])
    }

    func release(savepoint name: String) throws {
        try execute(try statements(forSavepoint: name).release, [])
    }

    /// The statements for the savepoint `name`.
    ///
    /// A body usually names the same savepoint for every message, so the last name's statements are
    /// kept and the name is quoted once per transaction rather than three times per message.
    private func statements(forSavepoint name: String) throws -> SavepointStatements {
        if let last = lastSavepoint, last.name == name {
            return last
        }
        let statements = SavepointStatements(name: name, identifier: try Self.identifier(name))
        lastSavepoint = statements
        return statements
    }

    /// Quotes a savepoint name as an SQL identifier.
    private static func identifier(_ name: String) throws -> String {
        guard !name.isEmpty else {
            throw DeduplicationStoreError(.invalidArgument, "a savepoint name is empty; name the savepoint")
        }
        // SQLite compares identifiers without regard to ASCII case.
        guard !SQLiteConnection.reservedSavepoints.contains(name.lowercased()) else {
            throw DeduplicationStoreError(
                .invalidArgument,
                "the savepoint name '\(name)' is the store's own; choose another name for the handler's savepoints"
            )
        }
        let quote = Character("\"")
        guard name.contains(quote) else {
            return "\"\(name)\""
        }
        var quoted = "\""
        for character in name {
            quoted.append(character)
            if character == quote {
                quoted.append(quote)
            }
        }
        quoted.append(quote)
        return quoted
    }

    // MARK: - The handler's own statements

    @discardableResult
    func execute(_ sql: String, _ parameters: [SQLValue]) throws -> Int {
        let connection = try openConnection()
        return try connection.describingFailures("running '\(sql)'") {
            try watchingForEnd(connection) { try connection.execute(sql, parameters) }
        }
    }

    func query(_ sql: String, _ parameters: [SQLValue]) throws -> [SQLRow] {
        let connection = try openConnection()
        return try connection.describingFailures("running '\(sql)'") {
            try watchingForEnd(connection) { try connection.query(sql, parameters) }
        }
    }

    /// `SQLITE_CONSTRAINT_COMMITHOOK`, a commit the store refused; Swift does not import the macro.
    private static let refusedCommit = SQLITE_CONSTRAINT | (2 << 8)

    /// Runs one of the body's own statements, noting in ``endedTransaction`` whether it ended the
    /// transaction. A statement that fails otherwise may also make SQLite roll back; that is the
    /// failure's doing, not the body's, and is not noted.
    private func watchingForEnd<Value>(_ connection: SQLiteConnection, _ run: () throws -> Value) throws -> Value {
        let wasOpen = connection.isInTransaction
        do {
            let value = try run()
            if wasOpen && !connection.isInTransaction {
                endedTransaction = true
            }
            return value
        } catch let failure as SQLiteFailure where failure.code == Self.refusedCommit {
            if wasOpen {
                endedTransaction = true
            }
            throw failure
        }
    }
}
