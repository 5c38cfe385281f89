import Foundation
import KafkaOnce

/// An invoice to post, as the billing system writes it:
/// `{"amount":"12.50","customer":"ada","invoice":"inv-k3x9-07"}`, with the invoice ID in the
/// `idempotency-key` header.
struct Invoice: Codable, Sendable, Hashable {
    /// The invoice's ID, unique per invoice.
    var invoice: String
    var customer: String
    /// The amount as text: `12.50`, or `12,50` as a newer release of the billing system writes it.
    var amount: String
}

extension Invoice {
    /// Decodes the invoice a message carries.
    init(from message: KafkaMessage) throws {
        guard let value = message.value else {
            throw InvoiceError("the tombstone at \(message.coordinates) carries no invoice")
        }
        self = try JSONDecoder().decode(Invoice.self, from: Data(value))
    }

    /// The record that carries this invoice to `topic`, keyed by the invoice ID. Sorted keys give
    /// the same invoice the same bytes every time it is encoded.
    func record(topic: String) throws -> KafkaProducerRecord {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return KafkaProducerRecord(
            topic: topic,
            key: Array(invoice.utf8),
            value: Array(try encoder.encode(self)),
            headers: [KafkaHeader(name: "idempotency-key", text: invoice)]
        )
    }

    /// Invoices numbered `numbers`, with IDs that start with `inv-BATCH-`; every fourth writes its
    /// amount with a decimal comma.
    static func samples(batch: String, numbers: ClosedRange<Int>) -> [Invoice] {
        let customers = ["ada", "grace", "alan", "edsger", "barbara"]
        return numbers.map { number in
            let cents = 900 + number * 35
            let separator = number % 4 == 0 ? "," : "."
            return Invoice(
                invoice: "inv-\(batch)-" + (number < 10 ? "0" : "") + String(number),
                customer: customers[number % customers.count],
                amount: "\(cents / 100)\(separator)\(cents % 100 < 10 ? "0" : "")\(cents % 100)"
            )
        }
    }
}

/// How each release of the handler reads an amount, in cents.
enum AmountParser {
    /// Release 1, with the bug: it knows only the decimal point, and rejects `12,50`.
    @Sendable static func release1(_ text: String) throws -> Int {
        try cents(text, separators: ["."])
    }

    /// Release 2, the fix: a decimal point or a decimal comma.
    @Sendable static func release2(_ text: String) throws -> Int {
        try cents(text, separators: [".", ","])
    }

    private static func cents(_ text: String, separators: Set<Character>) throws -> Int {
        let parts = text.split(maxSplits: 1, whereSeparator: separators.contains)
        guard parts.count == 2, parts[1].count == 2, let units = Int(parts[0]), let hundredths = Int(parts[1])
        else {
            let accepted = separators.sorted().map { "12\($0)50" }.joined(separator: " or ")
            throw InvoiceError("'\(text)' is not an amount such as \(accepted)")
        }
        return units * 100 + hundredths
    }
}

/// An invoice that cannot be posted.
struct InvoiceError: Error, CustomStringConvertible {
    let description: String

    init(_ description: String) {
        self.description = description
    }
}
