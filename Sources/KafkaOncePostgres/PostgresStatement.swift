import CLibPQ

/// One SQL statement and its parameters, ready for `PQsendQueryParams`.
struct PostgresStatement {
    var sql: String
    var parameters: [PostgresParameter]
    /// Whether the connection prepares the statement once and reuses its plan: for the store's own
    /// statements, which run with every batch, not for a handler's.
    var isPrepared: Bool

    init(_ sql: String, _ parameters: [PostgresParameter] = [], prepared: Bool = false) {
        self.sql = sql
        self.parameters = parameters
        self.isPrepared = prepared
    }

    /// Calls `body` with the parameter arrays libpq expects, valid only during the call.
    func withLibPQParameters<Result>(
        _ body: (
            _ count: Int32,
            _ types: UnsafePointer<Oid>?,
            _ values: UnsafePointer<UnsafePointer<CChar>?>?,
            _ lengths: UnsafePointer<Int32>?,
            _ formats: UnsafePointer<Int32>?
        ) -> Result
    ) -> Result {
        // Every value goes into one buffer, text values followed by the NUL that libpq looks for.
        var storage: [UInt8] = []
        var offsets: [Int?] = []
        for parameter in parameters {
            guard let bytes = parameter.bytes else {
                offsets.append(nil)
                continue
            }
            offsets.append(storage.count)
            storage.append(contentsOf: bytes)
            storage.append(0)
        }
        let types = parameters.map(\.type)
        let lengths = parameters.map { Int32($0.bytes?.count ?? 0) }
        let formats = parameters.map { $0.isBinary ? Int32(1) : Int32(0) }

        return storage.withUnsafeBufferPointer { buffer in
            let values: [UnsafePointer<CChar>?] = offsets.map { offset in
                offset.map { UnsafeRawPointer(buffer.baseAddress! + $0).assumingMemoryBound(to: CChar.self) }
            }
            return body(Int32(parameters.count), types, values, lengths, formats)
        }
    }
}

/// A statement parameter: its bytes in libpq's text or binary format, and its type.
struct PostgresParameter {
    /// `nil` for SQL `NULL`.
    var bytes: [UInt8]?
    /// The parameter's type OID, or 0 to let the server infer it from the statement.
    var type: Oid
    var isBinary: Bool

    static let null = PostgresParameter(bytes: nil, type: 0, isBinary: false)

    static func text(_ value: String, type: Oid = 0) -> PostgresParameter {
        PostgresParameter(bytes: Array(value.utf8), type: type, isBinary: false)
    }

    static func integer<Value: BinaryInteger>(_ value: Value) -> PostgresParameter {
        .text(String(value), type: PostgresType.int8)
    }

    static func real(_ value: Double) -> PostgresParameter {
        let text =
            if value.isNaN { "NaN" } else if value.isInfinite { value < 0 ? "-Infinity" : "Infinity" } else {
                "\(value)"
            }
        return .text(text, type: PostgresType.float8)
    }

    static func bytea(_ value: [UInt8]) -> PostgresParameter {
        PostgresParameter(bytes: value, type: PostgresType.bytea, isBinary: true)
    }
}

/// The type OIDs the store binds and reads.
enum PostgresType {
    static let bool: Oid = 16
    static let bytea: Oid = 17
    static let int8: Oid = 20
    static let int2: Oid = 21
    static let int4: Oid = 23
    static let text: Oid = 25
    static let float4: Oid = 700
    static let float8: Oid = 701
    static let numeric: Oid = 1700
}
