import Foundation
import KafkaOnce

/// An order to charge, as producers write it:
/// `{"amount":1250,"customer":"ada","order":"order-k3x9-01"}`, with the order ID also in the
/// `idempotency-key` header.
struct Order: Codable, Sendable, Hashable {
    /// The order's ID, unique per order.
    var order: String
    var customer: String
    /// The amount to charge, in cents.
    var amount: Int
}

extension Order {
    /// Decodes the order a message carries.
    init(from message: KafkaMessage) throws {
        guard let value = message.value else {
            throw OrderError("the tombstone at \(message.coordinates) carries no order")
        }
        self = try JSONDecoder().decode(Order.self, from: Data(value))
    }

    /// The record that carries this order to `topic`, keyed by the order ID so that every copy of
    /// an order lands on the same partition. Sorted keys give the same order the same bytes, so a
    /// copy is a duplicate (same payload fingerprint), not a conflict.
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

    /// Orders numbered `numbers`, with IDs that start with `order-BATCH-`.
    static func samples(batch: String, numbers: ClosedRange<Int>) -> [Order] {
        let customers = ["ada", "grace", "alan", "edsger", "barbara"]
        return numbers.map { number in
            Order(
                order: "order-\(batch)-" + (number < 10 ? "0" : "") + String(number),
                customer: customers[number % customers.count],
                amount: 500 + number * 25
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
