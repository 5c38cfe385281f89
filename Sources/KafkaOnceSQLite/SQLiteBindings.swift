import CSQLite
import KafkaOnce

/// Binds a statement's parameters in order, from the first placeholder on.
///
/// The first failure is kept and reported by the statement once binding ends, so the hot paths
/// bind without a `try` per value.
struct SQLiteBindings {
    private let handle: OpaquePointer
    /// How many parameters were bound.
    private(set) var count: Int32 = 0
    /// The first parameter SQLite refused, and its result code.
    private(set) var failure: (index: Int32, code: Int32)?

    init(handle: OpaquePointer) {
        self.handle = handle
    }

    /// Binds text.
    mutating func add(_ text: String) {
        let index = next()
        // An empty buffer may have no address, and a null address would bind NULL, not "".
        guard !text.isEmpty else {
            check(sqlite3_bind_text(handle, index, "", 0, Self.transient), index)
            return
        }
        var text = text
        let code = text.withUTF8 { bytes in
            sqlite3_bind_text(handle, index, bytes.baseAddress, Int32(bytes.count), Self.transient)
        }
        check(code, index)
    }

    /// Binds an integer.
    mutating func add(_ integer: Int64) {
        let index = next()
        check(sqlite3_bind_int64(handle, index, integer), index)
    }

    /// Binds a real number.
    mutating func add(_ real: Double) {
        let index = next()
        check(sqlite3_bind_double(handle, index, real), index)
    }

    /// Binds bytes, or NULL when there are none.
    mutating func add(_ bytes: [UInt8]?) {
        guard let bytes else {
            let index = next()
            check(sqlite3_bind_null(handle, index), index)
            return
        }
        let index = next()
        // Same reason as for text: a zero-length blob must not become NULL.
        guard !bytes.isEmpty else {
            check(sqlite3_bind_zeroblob(handle, index, 0), index)
            return
        }
        let code = bytes.withUnsafeBytes { buffer in
            sqlite3_bind_blob(handle, index, buffer.baseAddress, Int32(buffer.count), Self.transient)
        }
        check(code, index)
    }

    /// Binds text, or NULL.
    mutating func add(_ text: String?) {
        guard let text else {
            add(nil as [UInt8]?)
            return
        }
        add(text)
    }

    /// Binds any SQL value.
    mutating func add(_ value: SQLValue) {
        switch value {
        case .null: add(nil as [UInt8]?)
        case .integer(let integer): add(integer)
        case .real(let real): add(real)
        case .text(let text): add(text)
        case .blob(let bytes): add(bytes)
        }
    }

    private mutating func next() -> Int32 {
        count += 1
        return count
    }

    private mutating func check(_ code: Int32, _ index: Int32) {
        if code != SQLITE_OK && failure == nil {
            failure = (index, code)
        }
    }

    /// SQLite's `SQLITE_TRANSIENT`: copy the bound bytes before the call returns.
    private static var transient: sqlite3_destructor_type {
        unsafeBitCast(-1 as Int, to: sqlite3_destructor_type.self)
    }
}

extension MessageFingerprint {
    /// ``description`` (32 lowercase hexadecimal digits), written straight into one string, since
    /// the store writes one per row.
    @_spi(Testing)
    public var hexDigits: String {
        String(unsafeUninitializedCapacity: 32) { buffer in
            Self.writeHex(high, into: buffer, at: 0)
            Self.writeHex(low, into: buffer, at: 16)
            return 32
        }
    }

    private static func writeHex(
        _ value: UInt64,
        into buffer: UnsafeMutableBufferPointer<UInt8>,
        at start: Int
    ) {
        for position in 0..<16 {
            let nibble = UInt8(truncatingIfNeeded: value >> UInt64(60 - 4 * position)) & 0x0F
            buffer[start + position] = nibble < 10 ? 0x30 + nibble : 0x57 + nibble
        }
    }
}
