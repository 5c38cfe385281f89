import CLibPQ
import Foundation
import KafkaOnce

/// A statement's result, copied out of libpq: text-format values, column names and types, and
/// the command tag.
struct PostgresResult {
    var columns: [String]
    var types: [Oid]
    /// Row-major values; `nil` is SQL `NULL`.
    private var values: [String?]
    var rowCount: Int
    /// The command tag, such as `INSERT 0 3` or `COMMIT`.
    var commandStatus: String
    /// The rows an `INSERT`, `UPDATE`, `DELETE` or `SELECT` touched.
    var affectedRows: Int

    /// Copies `result`, which the caller still owns.
    init(copying result: OpaquePointer) {
        let rowCount = Int(PQntuples(result))
        let columnCount = Int(PQnfields(result))
        columns = (0..<columnCount).map { String(cString: PQfname(result, Int32($0))) }
        types = (0..<columnCount).map { PQftype(result, Int32($0)) }
        var values: [String?] = []
        values.reserveCapacity(rowCount * columnCount)
        for row in 0..<Int32(rowCount) {
            for column in 0..<Int32(columnCount) {
                values.append(
                    PQgetisnull(result, row, column) == 1 ? nil : String(cString: PQgetvalue(result, row, column))
                )
            }
        }
        self.values = values
        self.rowCount = rowCount
        commandStatus = String(cString: PQcmdStatus(result))
        affectedRows = Int(String(cString: PQcmdTuples(result))) ?? 0
    }

    /// The text value at `row`, `column`, or `nil` for `NULL`.
    subscript(row: Int, column: Int) -> String? {
        values[row * columns.count + column]
    }

    /// One row, read by column position.
    func row(_ index: Int) -> PostgresRow {
        PostgresRow(result: self, index: index)
    }

    /// Every row.
    var rows: [PostgresRow] {
        (0..<rowCount).map(row)
    }
}

/// One row of a ``PostgresResult``, read by column position with typed accessors.
struct PostgresRow {
    let result: PostgresResult
    let index: Int

    func isNull(_ column: Int) -> Bool { result[index, column] == nil }

    func string(_ column: Int) throws(PostgresFailure) -> String {
        guard let value = result[index, column] else { throw unexpected(column, "NULL") }
        return value
    }

    func optionalString(_ column: Int) -> String? { result[index, column] }

    func int64(_ column: Int) throws(PostgresFailure) -> Int64 {
        let text = try string(column)
        guard let value = Int64(text) else { throw unexpected(column, text) }
        return value
    }

    func double(_ column: Int) throws(PostgresFailure) -> Double {
        let text = try string(column)
        guard let value = Double(text) else { throw unexpected(column, text) }
        return value
    }

    func bool(_ column: Int) throws(PostgresFailure) -> Bool {
        try string(column) == "t"
    }

    /// A `timestamptz` read as `extract(epoch FROM …)`.
    func date(_ column: Int) throws(PostgresFailure) -> Date {
        Date(timeIntervalSince1970: try double(column))
    }

    func optionalDate(_ column: Int) throws(PostgresFailure) -> Date? {
        isNull(column) ? nil : try date(column)
    }

    func optionalBytes(_ column: Int) throws(PostgresFailure) -> [UInt8]? {
        guard let text = result[index, column] else { return nil }
        guard let bytes = PostgresBytea.decode(text) else { throw unexpected(column, "a bytea that is not hex") }
        return bytes
    }

    private func unexpected(_ column: Int, _ value: String) -> PostgresFailure {
        PostgresFailure(
            message: "the server returned \(value.prefix(40)) in column \(result.columns[column]), "
                + "which the store cannot read; was the kafka_once_ schema changed by hand?"
        )
    }
}
