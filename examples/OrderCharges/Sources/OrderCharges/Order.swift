import Foundation
import KafkaOnce

/// An order to charge, as producers write it:
/// `{"amount":1250,"customer":"ada","order":"order-k3x9-01"}`.
///
/// Producers also put the order ID in the `idempotency-key` header, and the consumer takes that
/// header as the message's identity. A record produced twice (a producer that retried after a lost
/// acknowledgement) carries the same ID at another offset, so it is recognised as the same order.
struct Order: Codable, Sendable, Hashable {
    /// The order's ID, unique per order.
    var order: String
    var customer: String
    /// The amount to charge, in cents.
    var amount: Int

    /// The amount as `12.50`.
    var formattedAmount: String {
        String(format: "%d.%02d", amount / 100, amount % 100)
    }
}

extension Order {
    /// Decodes the order a message carries.
    ///
    /// - Throws: ``OrderError`` for a tombstone, or the decoder's error for a malformed payload.
    init(from message: KafkaMessage) throws {
        guard let value = message.value else {
            throw OrderError("the tombstone at \(message.coordinates) carries no order")
        }
        self = try JSONDecoder().decode(Order.self, from: Data(value))
    }

    /// The record that carries this order to `topic`. The order ID is the record key too, so every
    /// copy of an order lands on the same partition.
    ///
    /// The payload is encoded with sorted keys, so that the same order always has the same bytes:
    /// the store keeps a fingerprint of the payload, and the same ID with other bytes is a
    /// conflict, not a duplicate.
    func record(topic: String) throws -> KafkaProducerRecord {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return KafkaProducerRecord(
            topic: topic,
            key: Array(order.utf8),
            value: Array(try encoder.encode(self)),
            headers: [KafkaHeader(name: "idempotency-key", text: order)]
        )
    }

    /// Ten orders whose IDs start with `order-BATCH-`, so that each run of the example has its own.
    static func samples(batch: String) -> [Order] {
        let customers = ["ada", "grace", "alan", "edsger", "barbara"]
        return (1...10).map { number in
            Order(
                order: "order-\(batch)-\(number < 10 ? "0" : "")\(number)",
                customer: customers[number % customers.count],
                amount: 500 + number * 125
            )
        }
    }
}

/// An order that cannot be charged.
struct OrderError: Error, CustomStringConvertible {
    let description: String

    init(_ description: String) {
        self.description = description
    }
}
