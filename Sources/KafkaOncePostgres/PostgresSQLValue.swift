import CLibPQ
import KafkaOnce

extension SQLValue {
    /// The value as a statement parameter: text format for numbers and strings, binary for blobs.
    var postgresParameter: PostgresParameter {
        switch self {
        case .null: .null
        case .integer(let value): .integer(value)
        case .real(let value): .real(value)
        case .text(let value): .text(value)
        case .blob(let value): .bytea(value)
        }
    }

    /// Reads a text-format result value by its column type: integers, floating-point and numeric
    /// numbers, `bytea` and `bool` (as 0 or 1) get their own case, every other type is text.
    init(postgresText text: String?, type: Oid) {
        guard let text else {
            self = .null
            return
        }
        switch type {
        case PostgresType.int2, PostgresType.int4, PostgresType.int8:
            self = Int64(text).map(SQLValue.integer) ?? .text(text)
        case PostgresType.float4, PostgresType.float8, PostgresType.numeric:
            self = Double(text).map(SQLValue.real) ?? .text(text)
        case PostgresType.bytea:
            self = PostgresBytea.decode(text).map(SQLValue.blob) ?? .text(text)
        case PostgresType.bool:
            self = .integer(text == "t" ? 1 : 0)
        default:
            self = .text(text)
        }
    }
}

extension PostgresResult {
    /// The rows as ``/KafkaOnce/SQLRow`` values.
    var sqlRows: [SQLRow] {
        (0..<rowCount).map { row in
            SQLRow(
                columns: columns,
                values: columns.indices.map { SQLValue(postgresText: self[row, $0], type: types[$0]) }
            )
        }
    }
}
