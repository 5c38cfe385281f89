/// A 128-bit fingerprint of a payload, to tell a duplicate from a different message under the same key.
///
/// - Important: The hash is fast, not cryptographic. It separates accidental differences with
///   overwhelming probability, but a producer that crafts payloads on purpose can make two differ
///   with the same fingerprint. Use it to catch mistakes, not attacks.
public struct MessageFingerprint: Sendable, Hashable, CustomStringConvertible {
    /// The first 64 bits.
    public var high: UInt64
    /// The last 64 bits.
    public var low: UInt64

    /// A fingerprint from its two halves, as stored.
    public init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    /// The fingerprint of a tombstone.
    public static let tombstone = MessageFingerprint(high: 0, low: 0)

    /// Fingerprints a payload; `nil` (a tombstone) has its own fingerprint, distinct from empty bytes.
    public init(payload: [UInt8]?) {
        guard let payload else {
            self = .tombstone
            return
        }
        self = payload.withUnsafeBytes { MessageFingerprint(bytes: $0) }
    }

    /// Fingerprints raw bytes.
    public init(bytes: UnsafeRawBufferPointer) {
        // Two independent 64-bit lanes over 8-byte words, each a multiply-xorshift mix, with the
        // length folded in so that trailing zero bytes change the result.
        var first: UInt64 = 0x9E37_79B9_7F4A_7C15 ^ UInt64(bytes.count)
        var second: UInt64 = 0xC2B2_AE3D_27D4_EB4F &+ UInt64(bytes.count)
        var index = 0
        while index + 8 <= bytes.count {
            let word = bytes.loadUnaligned(fromByteOffset: index, as: UInt64.self)
            first = Self.mix(first ^ word, 0xFF51_AFD7_ED55_8CCD)
            second = Self.mix(second &+ word, 0xC4CE_B9FE_1A85_EC53)
            index += 8
        }
        var tail: UInt64 = 0
        var shift: UInt64 = 0
        while index < bytes.count {
            tail |= UInt64(bytes[index]) << shift
            shift += 8
            index += 1
        }
        first = Self.mix(first ^ tail ^ 0x01, 0xFF51_AFD7_ED55_8CCD)
        second = Self.mix(second &+ tail &+ 0x02, 0xC4CE_B9FE_1A85_EC53)
        // A tombstone is (0, 0); real payloads never map there.
        self.init(high: first | 1, low: second)
    }

    private static func mix(_ value: UInt64, _ multiplier: UInt64) -> UInt64 {
        var value = value &* multiplier
        value ^= value >> 29
        value = value &* 0x94D0_49BB_1331_11EB
        return value ^ (value >> 32)
    }

    /// 32 lowercase hexadecimal digits.
    public var description: String {
        hex(high) + hex(low)
    }

    /// Parses ``description``.
    public init?(hex text: String) {
        guard text.utf8.count == 32,
            let high = UInt64(text.prefix(16), radix: 16),
            let low = UInt64(text.suffix(16), radix: 16)
        else { return nil }
        self.init(high: high, low: low)
    }

    private func hex(_ value: UInt64) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }
}
