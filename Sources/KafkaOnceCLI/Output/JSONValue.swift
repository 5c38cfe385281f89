/// A JSON value whose objects keep their keys in the order written, so output is stable and
/// reads in a sensible order.
///
/// ```swift
/// let value: JSONValue = ["store": "memory:", "completed": .integer(3), "oldestUpdate": nil]
/// value.serialized()  // {"store":"memory:","completed":3,"oldestUpdate":null}
/// ```
indirect enum JSONValue: Sendable, Hashable {
    case null
    case bool(Bool)
    case integer(Int)
    case number(Double)
    case string(String)
    case array([JSONValue])
    /// Members in order; a key should appear once.
    case object([Member])

    /// One key and its value.
    struct Member: Sendable, Hashable {
        var key: String
        var value: JSONValue
    }

    /// A string, or `null` for `nil`.
    static func string(_ value: String?) -> JSONValue {
        value.map { .string($0) } ?? .null
    }

    /// An integer, or `null` for `nil`.
    static func integer<Integer: BinaryInteger>(_ value: Integer?) -> JSONValue {
        value.map { .integer(Int($0)) } ?? .null
    }
}

extension JSONValue: ExpressibleByDictionaryLiteral {
    init(dictionaryLiteral elements: (String, JSONValue)...) {
        self = .object(elements.map { Member(key: $0.0, value: $0.1) })
    }
}

extension JSONValue: ExpressibleByArrayLiteral {
    init(arrayLiteral elements: JSONValue...) {
        self = .array(elements)
    }
}

extension JSONValue: ExpressibleByStringLiteral {
    init(stringLiteral value: String) {
        self = .string(value)
    }
}

extension JSONValue: ExpressibleByIntegerLiteral {
    init(integerLiteral value: Int) {
        self = .integer(value)
    }
}

extension JSONValue: ExpressibleByFloatLiteral {
    init(floatLiteral value: Double) {
        self = .number(value)
    }
}

extension JSONValue: ExpressibleByBooleanLiteral {
    init(booleanLiteral value: Bool) {
        self = .bool(value)
    }
}

extension JSONValue: ExpressibleByNilLiteral {
    init(nilLiteral: ()) {
        self = .null
    }
}
