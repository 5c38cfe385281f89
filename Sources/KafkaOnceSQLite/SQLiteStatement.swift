import CSQLite
import KafkaOnce

/// A prepared statement, reset after every use so it holds no lock between uses.
///
/// Not thread-safe: like its connection, it is used only on the store's worker thread.
final class SQLiteStatement {
    /// The statement's text, named in errors.
    let sql: String
    private let handle: OpaquePointer

    /// Compiles one statement.
    ///
    /// - Throws: ``SQLiteFailure`` when SQLite rejects the text, or when it holds no statement or
    ///   more than one.
    init(sql: String, database: OpaquePointer) throws {
        var compiled: OpaquePointer?
        var rest = ""
        let code = sql.withCString { text in
            var tail: UnsafePointer<CChar>?
            let flags = UInt32(SQLITE_PREPARE_PERSISTENT)
            let code = sqlite3_prepare_v3(database, text, -1, flags, &compiled, &tail)
            if let tail {
                rest = String(cString: tail)
            }
            return code
        }
        guard code == SQLITE_OK else {
            sqlite3_finalize(compiled)
            throw SQLiteFailure(code: code, detail: String(cString: sqlite3_errmsg(database)))
        }
        guard let compiled else {
            throw SQLiteFailure(code: SQLITE_ERROR, detail: "'\(sql)' holds no statement")
        }
        guard rest.allSatisfy({ $0.isWhitespace || $0 == ";" }) else {
            sqlite3_finalize(compiled)
            throw SQLiteFailure(
                code: SQLITE_ERROR,
                detail: "'\(sql)' holds more than one statement; pass one statement per call"
            )
        }
        self.sql = sql
        self.handle = compiled
    }

    deinit {
        sqlite3_finalize(handle)
    }

    /// Whether the statement leaves the database unchanged.
    var isReadOnly: Bool { sqlite3_stmt_readonly(handle) != 0 }

    /// The names of the result columns.
    var columnNames: [String] {
        (0..<sqlite3_column_count(handle)).map { String(cString: sqlite3_column_name(handle, $0)) }
    }

    // MARK: - Running

    /// Runs the statement to its end and returns how many rows it changed.
    @discardableResult
    func run(_ parameters: [SQLValue] = []) throws -> Int {
        try run { bindings in
            for parameter in parameters {
                bindings.add(parameter)
            }
        }
    }

    /// Runs the statement with parameters bound one by one, and returns how many rows it changed.
    ///
    /// The hot paths bind this way, so that a row costs no array of values.
    @discardableResult
    func run(binding bind: (inout SQLiteBindings) -> Void) throws -> Int {
        try bindAll(bind)
        defer { clear() }

        while try step() {}
        return isReadOnly ? 0 : Int(sqlite3_changes(sqlite3_db_handle(handle)))
    }

    /// Runs the statement and calls `read` with the statement positioned on each result row.
    func forEachRow(_ parameters: [SQLValue] = [], _ read: (SQLiteStatement) throws -> Void) throws {
        try bindAll { bindings in
            for parameter in parameters {
                bindings.add(parameter)
            }
        }
        defer { clear() }

        while try step() {
            try read(self)
        }
    }

    /// Runs the statement and reads its first result row, if there is one.
    func firstRow<Value>(
        _ parameters: [SQLValue] = [],
        _ read: (SQLiteStatement) throws -> Value
    ) throws -> Value? {
        try bindAll { bindings in
            for parameter in parameters {
                bindings.add(parameter)
            }
        }
        defer { clear() }

        return try step() ? read(self) : nil
    }

    private func step() throws -> Bool {
        switch sqlite3_step(handle) {
        case SQLITE_ROW:
            return true
        case SQLITE_DONE:
            return false
        case let code:
            let detail = String(cString: sqlite3_errmsg(sqlite3_db_handle(handle)))
            throw SQLiteFailure(code: code, detail: detail)
        }
    }

    private func clear() {
        sqlite3_reset(handle)
        sqlite3_clear_bindings(handle)
    }

    // MARK: - Parameters

    private func bindAll(_ bind: (inout SQLiteBindings) -> Void) throws {
        var bindings = SQLiteBindings(handle: handle)
        bind(&bindings)

        if let failure = bindings.failure {
            clear()
            throw SQLiteFailure(
                code: failure.code,
                detail: "cannot bind parameter \(failure.index) of '\(sql)': "
                    + String(cString: sqlite3_errmsg(sqlite3_db_handle(handle)))
            )
        }
        let expected = sqlite3_bind_parameter_count(handle)
        guard bindings.count == expected else {
            clear()
            throw SQLiteFailure(
                code: SQLITE_RANGE,
                detail: "'\(sql)' has \(expected) placeholders but \(bindings.count) parameters were given"
            )
        }
    }

    // MARK: - Columns

    /// The value of column `index` of the current row.
    func value(at index: Int32) -> SQLValue {
        switch sqlite3_column_type(handle, index) {
        case SQLITE_INTEGER:
            return .integer(sqlite3_column_int64(handle, index))
        case SQLITE_FLOAT:
            return .real(sqlite3_column_double(handle, index))
        case SQLITE3_TEXT:
            return .text(text(at: index) ?? "")
        case SQLITE_BLOB:
            return .blob(bytes(at: index) ?? [])
        default:
            return .null
        }
    }

    /// The values of every column of the current row.
    var values: [SQLValue] {
        (0..<sqlite3_column_count(handle)).map { value(at: $0) }
    }

    /// Column `index` as an integer; NULL reads as 0.
    func integer(at index: Int32) -> Int64 {
        sqlite3_column_int64(handle, index)
    }

    /// Column `index` as a real number, or `nil` when it is NULL.
    func real(at index: Int32) -> Double? {
        sqlite3_column_type(handle, index) == SQLITE_NULL ? nil : sqlite3_column_double(handle, index)
    }

    /// Column `index` as text, or `nil` when it is NULL.
    func text(at index: Int32) -> String? {
        guard let pointer = sqlite3_column_text(handle, index) else { return nil }
        let count = Int(sqlite3_column_bytes(handle, index))
        return String(decoding: UnsafeBufferPointer(start: pointer, count: count), as: UTF8.self)
    }

    /// Column `index` as bytes, or `nil` when it is NULL.
    func bytes(at index: Int32) -> [UInt8]? {
        guard sqlite3_column_type(handle, index) != SQLITE_NULL else { return nil }
        let pointer = sqlite3_column_blob(handle, index)
        let count = Int(sqlite3_column_bytes(handle, index))
        guard let pointer, count > 0 else { return [] }
        return Array(UnsafeRawBufferPointer(start: pointer, count: count))
    }
}
