import KafkaOnce
@_spi(Testing) import KafkaOnceSQLite
import Testing

@Suite struct SQLiteEncodingTests {
    @Test(arguments: [
        MessageFingerprint.tombstone,
        MessageFingerprint(high: .max, low: .max),
        MessageFingerprint(high: 0x0123_4567_89AB_CDEF, low: 0xFEDC_BA98_7654_3210),
        MessageFingerprint(payload: Array("order-42".utf8)),
    ])
    func fingerprintDigitsMatchTheDescription(_ fingerprint: MessageFingerprint) {
        #expect(fingerprint.hexDigits == fingerprint.description)
        #expect(MessageFingerprint(hex: fingerprint.hexDigits) == fingerprint)
    }
}
