import CSQLite
import Foundation
import KafkaOnce

/// One open database file, set up for the store, with its prepared statements.
///
/// Not thread-safe: the store confines each connection to its worker thread.
final class SQLiteConnection {
    /// The file's path, named in every error.
    let path: String
    /// How many group transactions committed; group commit makes it smaller than the number of
    /// ``SQLiteDeduplicationStore/claim(_:fence:leaseDuration:)``,
    /// ``SQLiteDeduplicationStore/finish(_:fence:)`` and
    /// ``SQLiteDeduplicationStore/withTransaction(fence:_:)`` calls.
    var groupCommitCount = 0
    /// Whether commits are refused: set while a transaction body runs, so that the body cannot
    /// commit the writes of the other calls of its group.
    var refusesCommits = false
    /// Whether a transaction ended (was rolled back, or refused a commit) since the flag was last
    /// cleared; set by the hooks ``installTransactionHooks()`` registers.
    var transactionEnded = false
    private let handle: OpaquePointer
    private var statements: [String: SQLiteStatement] = [:]
    private var isClosed = false

    /// How many distinct statements stay prepared; beyond it, statements are compiled per use.
    private static let statementCacheLimit = 256

    /// Opens or creates the file, switches it to write-ahead logging with full syncs, and creates
    /// or checks the schema.
    ///
    /// - Throws: ``/KafkaOnce/DeduplicationStoreError`` naming `path` and what to do.
    init(path: String, busyTimeout: Duration) throws {
        try Self.checkDirectory(of: path)

        var opened: OpaquePointer?
        let flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX
        let code = sqlite3_open_v2(path, &opened, flags, nil)
        guard code == SQLITE_OK, let opened else {
            let detail = opened.map { String(cString: sqlite3_errmsg($0)) } ?? "out of memory"
            sqlite3_close_v2(opened)
            let failure = SQLiteFailure(code: code, detail: detail)
            throw DeduplicationStoreError(failure, path: path, action: "opening")
        }
        self.path = path
        self.handle = opened

        do {
            installTransactionHooks()
            try configure(busyTimeout: busyTimeout)
            try SQLiteSchema.prepare(self)
        } catch {
            close()
            throw storeError(error, action: "opening")
        }
    }

    deinit {
        close()
    }

    /// Finalizes the statements and closes the file. Later calls do nothing.
    func close() {
        guard !isClosed else { return }
        isClosed = true
        statements.removeAll()
        sqlite3_commit_hook(handle, nil, nil)
        sqlite3_rollback_hook(handle, nil, nil)
        sqlite3_close_v2(handle)
    }

    private static func checkDirectory(of path: String) throws {
        guard !path.isEmpty else {
            throw DeduplicationStoreError(
                .invalidArgument,
                "the SQLite store path is empty; pass the path of a database file"
            )
        }
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
        var isDirectory: ObjCBool = false
        let exists = FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory)
        guard exists && isDirectory.boolValue else {
            throw DeduplicationStoreError(
                .unusable,
                "cannot create the SQLite store at '\(path)': the directory '\(directory)' does not exist; "
                    + "create it first or point --store elsewhere"
            )
        }
    }

    private func configure(busyTimeout: Duration) throws {
        sqlite3_extended_result_codes(handle, 1)
        let milliseconds = max(0, min(busyTimeout.seconds * 1000, Double(Int32.max)))
        sqlite3_busy_timeout(handle, Int32(milliseconds))

        guard sqlite3_db_readonly(handle, "main") != 1 else {
            throw SQLiteFailure(code: SQLITE_READONLY, detail: "the file could only be opened for reading")
        }
        let mode = try prepared("PRAGMA journal_mode = WAL").firstRow { $0.text(at: 0) ?? "" } ?? ""
        guard mode.lowercased() == "wal" || path == ":memory:" else {
            throw DeduplicationStoreError(
                .unusable,
                "the SQLite store at '\(path)' cannot use write-ahead logging (the journal mode stays "
                    + "'\(mode)'); put the store on a local file system"
            )
        }
        // FULL: in WAL mode a commit is on disk, not only in the OS cache, when it returns.
        try prepared("PRAGMA synchronous = FULL").run()
        // A group commit nests a savepoint per call (and more inside transaction bodies); SQLite
        // keeps the pages it may have to restore in a statement journal, which would otherwise
        // spill to a temporary file and cost a write call per page.
        try prepared("PRAGMA temp_store = MEMORY").run()
    }

    // MARK: - Statements

    /// The prepared statement for `sql`, compiled on first use and reused afterwards.
    func prepared(_ sql: String) throws -> SQLiteStatement {
        if let statement = statements[sql] {
            return statement
        }
        let statement = try SQLiteStatement(sql: sql, database: handle)
        if statements.count < Self.statementCacheLimit {
            statements[sql] = statement
        }
        return statement
    }

    /// Runs one of the application's statements and returns the number of rows it changed.
    func execute(_ sql: String, _ parameters: [SQLValue]) throws -> Int {
        try prepared(sql).run(parameters)
    }

    /// Runs one of the application's queries and returns its rows.
    func query(_ sql: String, _ parameters: [SQLValue]) throws -> [SQLRow] {
        let statement = try prepared(sql)
        let columns = statement.columnNames
        var rows: [SQLRow] = []
        try statement.forEachRow(parameters) { row in
            rows.append(SQLRow(columns: columns, values: row.values))
        }
        return rows
    }

    /// Compiles, runs and discards a statement needed once, such as a schema change.
    func runOnce(_ sql: String) throws {
        try SQLiteStatement(sql: sql, database: handle).run()
    }

    // MARK: - Transactions

    /// Whether a transaction is open; SQLite ends one by itself after some I/O errors.
    var isInTransaction: Bool { sqlite3_get_autocommit(handle) == 0 }

    /// Runs `body` in a write transaction, taking the write lock first so that nothing else writes
    /// until it commits. Rolls back when `body` throws or the commit fails.
    func inWriteTransaction<Value>(_ body: () throws -> Value) throws -> Value {
        try inTransaction(beginning: "BEGIN IMMEDIATE", body)
    }

    /// Runs `body` in a read transaction, so that all its reads see one snapshot.
    func inReadTransaction<Value>(_ body: () throws -> Value) throws -> Value {
        try inTransaction(beginning: "BEGIN DEFERRED", body)
    }

    private func inTransaction<Value>(beginning begin: String, _ body: () throws -> Value) throws -> Value {
        try prepared(begin).run()
        do {
            let value = try body()
            try prepared("COMMIT").run()
            return value
        } catch {
            rollback()
            throw error
        }
    }

    /// The savepoint behind which ``inSavepoint(_:)`` runs one claim or finish of a transaction.
    static let storeCallSavepoint = "kafka_once_call"

    /// The savepoint names the store uses, which a handler's savepoints may not take: a handler's
    /// rollback to or release of one of them would undo or end the store's own.
    static let reservedSavepoints: Set<String> = [storeCallSavepoint, groupedCallSavepoint]

    /// Runs `body` inside the current transaction so that, when it throws, none of its writes stay.
    func inSavepoint<Value>(_ body: () throws -> Value) throws -> Value {
        try prepared("SAVEPOINT \(Self.storeCallSavepoint)").run()
        do {
            let value = try body()
            try prepared("RELEASE \(Self.storeCallSavepoint)").run()
            return value
        } catch {
            if isInTransaction {
                _ = try? prepared("ROLLBACK TO \(Self.storeCallSavepoint)").run()
                _ = try? prepared("RELEASE \(Self.storeCallSavepoint)").run()
            }
            throw error
        }
    }

    /// Rolls the open transaction back, if SQLite has not already done so.
    func rollback() {
        guard isInTransaction else { return }
        _ = try? prepared("ROLLBACK").run()
    }

    /// Registers the hooks behind ``refusesCommits`` and ``transactionEnded``.
    ///
    /// SQLite calls them on this thread, synchronously, from inside the statement that commits or
    /// rolls back. A refused commit becomes a rollback, which the rollback hook reports in turn.
    private func installTransactionHooks() {
        let context = Unmanaged.passUnretained(self).toOpaque()
        sqlite3_commit_hook(
            handle,
            { context in
                guard let context else { return 0 }
                let connection = Unmanaged<SQLiteConnection>.fromOpaque(context).takeUnretainedValue()
                return connection.refusesCommits ? 1 : 0
            },
            context
        )
        sqlite3_rollback_hook(
            handle,
            { context in
                guard let context else { return }
                Unmanaged<SQLiteConnection>.fromOpaque(context).takeUnretainedValue().transactionEnded = true
            },
            context
        )
    }

    // MARK: - Errors

    /// Turns a ``SQLiteFailure`` into a ``/KafkaOnce/DeduplicationStoreError`` that names the file; passes
    /// any other error through.
    func storeError(_ error: any Error, action: String) -> any Error {
        guard let failure = error as? SQLiteFailure else { return error }
        return DeduplicationStoreError(failure, path: path, action: action)
    }

    /// Runs `body`, turning the ``SQLiteFailure`` it throws into a ``/KafkaOnce/DeduplicationStoreError``.
    func describingFailures<Value>(
        _ action: @autoclosure () -> String,
        _ body: () throws -> Value
    ) throws -> Value {
        do {
            return try body()
        } catch {
            throw storeError(error, action: action())
        }
    }
}
