import KafkaOnce

import struct Foundation.Data

extension DeduplicationRecord {
    /// The record as `store show --json` prints it.
    var json: JSONValue {
        [
            "key": .string(key),
            "state": .string(state.rawValue),
            "fingerprint": .string(fingerprint.description),
            "owner": .string(owner),
            "epoch": .integer(Int(epoch)),
            "origin": [
                "topic": .string(origin.topic),
                "partition": .integer(Int(origin.partition)),
                "offset": .integer(Int(origin.offset)),
            ],
            "leaseExpiry": .timestamp(leaseExpiry),
            "attempts": .integer(attempts),
            "failureReason": failureReason.map { .string($0) } ?? .null,
            "resultBase64": result.map { .string(Data($0).base64EncodedString()) } ?? .null,
            "createdAt": .timestamp(createdAt),
            "updatedAt": .timestamp(updatedAt),
        ]
    }

    /// The record as `store show` prints it for people.
    var table: TextTable {
        TextTable.keyValue([
            ("key", key),
            ("state", state.rawValue),
            ("fingerprint", fingerprint.description),
            ("owner", owner),
            ("epoch", String(epoch)),
            ("origin", origin.description),
            ("lease expiry", leaseExpiry.map(TimestampFormat.string) ?? "-"),
            ("attempts", String(attempts)),
            ("failure reason", failureReason ?? "-"),
            ("result", result.map(Self.describeResult) ?? "-"),
            ("created", TimestampFormat.string(createdAt)),
            ("updated", TimestampFormat.string(updatedAt)),
        ])
    }

    /// Printable UTF-8 as it is; anything else as its size and Base64.
    private static func describeResult(_ bytes: [UInt8]) -> String {
        if let text = String(validating: bytes, as: UTF8.self),
            !text.unicodeScalars.contains(where: { $0.properties.generalCategory == .control })
        {
            return text
        }
        return "\(bytes.count) bytes, Base64 \(Data(bytes).base64EncodedString())"
    }
}
