import KafkaOnce

/// Builds PostgreSQL array literals, so a whole batch binds as a handful of array parameters that
/// a statement expands with `unnest`.
///
/// Literals are written as UTF-8 bytes directly: a batch of thousands of keys is built in a few
/// hundred microseconds.
struct PostgresArrayLiteral {
    private var bytes: [UInt8] = [UInt8(ascii: "{")]

    /// An array of strings; `nil` elements are `NULL`.
    static func strings(_ values: some Sequence<String?>) -> PostgresParameter {
        var literal = PostgresArrayLiteral()
        for value in values {
            literal.separate()
            if let value {
                literal.appendQuoted(value)
            } else {
                literal.appendNull()
            }
        }
        return literal.parameter
    }

    /// An array of integers.
    static func integers(_ values: some Sequence<some BinaryInteger>) -> PostgresParameter {
        var literal = PostgresArrayLiteral()
        for value in values {
            literal.separate()
            literal.appendInteger(Int64(value))
        }
        return literal.parameter
    }

    /// An array of fingerprints, each as its 32 hexadecimal digits.
    static func fingerprints(_ values: some Sequence<MessageFingerprint>) -> PostgresParameter {
        var literal = PostgresArrayLiteral()
        for value in values {
            literal.separate()
            literal.appendHex(value.high)
            literal.appendHex(value.low)
        }
        return literal.parameter
    }

    /// An array of `bytea` values in hex form; `nil` elements are `NULL`.
    static func byteas(_ values: some Sequence<[UInt8]?>) -> PostgresParameter {
        var literal = PostgresArrayLiteral()
        for value in values {
            literal.separate()
            guard let value else {
                literal.appendNull()
                continue
            }
            // `"\\x0a…"`: the backslash of the hex form is escaped inside the quoted element.
            literal.bytes += [UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "\\"), UInt8(ascii: "x")]
            for byte in value {
                literal.bytes.append(PostgresBytea.digits[Int(byte >> 4)])
                literal.bytes.append(PostgresBytea.digits[Int(byte & 0x0F)])
            }
            literal.bytes.append(UInt8(ascii: "\""))
        }
        return literal.parameter
    }

    private var parameter: PostgresParameter {
        PostgresParameter(bytes: bytes + [UInt8(ascii: "}")], type: 0, isBinary: false)
    }

    private mutating func separate() {
        if bytes.count > 1 { bytes.append(UInt8(ascii: ",")) }
    }

    private mutating func appendNull() {
        bytes.append(contentsOf: "NULL".utf8)
    }

    private mutating func appendQuoted(_ element: String) {
        bytes.append(UInt8(ascii: "\""))
        for byte in element.utf8 {
            if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") { bytes.append(UInt8(ascii: "\\")) }
            bytes.append(byte)
        }
        bytes.append(UInt8(ascii: "\""))
    }

    private mutating func appendInteger(_ value: Int64) {
        if value < 0 { bytes.append(UInt8(ascii: "-")) }
        var magnitude = value.magnitude
        let start = bytes.count
        repeat {
            bytes.append(UInt8(ascii: "0") + UInt8(magnitude % 10))
            magnitude /= 10
        } while magnitude > 0
        bytes[start...].reverse()
    }

    private mutating func appendHex(_ value: UInt64) {
        for shift in stride(from: 60, through: 0, by: -4) {
            bytes.append(PostgresBytea.digits[Int((value >> UInt64(shift)) & 0x0F)])
        }
    }
}

/// `bytea` in PostgreSQL's hex text form, `\x0a1b…`.
enum PostgresBytea {
    static let digits = Array("0123456789abcdef".utf8)

    /// Decodes the hex form; `nil` when `text` is not in it.
    static func decode(_ text: String) -> [UInt8]? {
        let utf8 = Array(text.utf8)
        guard utf8.starts(with: [UInt8(ascii: "\\"), UInt8(ascii: "x")]), utf8.count % 2 == 0 else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity((utf8.count - 2) / 2)
        var index = 2
        while index < utf8.count {
            guard let high = nibble(utf8[index]), let low = nibble(utf8[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
            index += 2
        }
        return bytes
    }

    private static func nibble(_ character: UInt8) -> UInt8? {
        switch character {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): character - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): character - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): character - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
