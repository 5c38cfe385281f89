import Foundation
import KafkaOnce
import KafkaOnceSQLite

/// Charges each order once, by inserting its row in the `charges` table inside the store's
/// transaction: the charge and the record of its message commit together, or neither does.
///
/// ```swift
/// let store = try SQLiteDeduplicationStore(path: "billing.sqlite")
/// try await ChargeHandler.prepare(store)
/// let handler = ChargeHandler()
/// let consumer = EffectivelyOnceConsumer(
///     configuration: configuration,
///     transactionalStore: store,
///     transactionalHandler: { message, context in try handler.handle(message, context) }
/// )
/// ```
public struct ChargeHandler: Sendable {
    /// An order as producers write it: `{"amount":42,"order":"k3x9-17"}`.
    public struct Order: Codable, Sendable, Hashable {
        /// The order's ID, unique per order.
        public var order: String
        /// The amount to charge, in cents.
        public var amount: Int

        public init(order: String, amount: Int) {
            self.order = order
            self.amount = amount
        }
    }

    public init() {}

    /// Charges the order `message` carries, in the transaction of `context`.
    ///
    /// - Throws: ``BillingError`` for a tombstone, the decoder's error for a malformed payload,
    ///   or the store's error when the insert fails, such as for an order charged already.
    public func handle(_ message: KafkaMessage, _ context: TransactionalContext) throws {
        guard let value = message.value else {
            throw BillingError("the tombstone at \(message.coordinates) carries no order")
        }
        let order = try JSONDecoder().decode(Order.self, from: Data(value))
        // The primary key on order_id refuses a second charge even if a duplicate got this far.
        try context.transaction.execute(
            "INSERT INTO charges (order_id, amount, idempotency_key) VALUES (?, ?, ?)",
            [.text(order.order), .integer(Int64(order.amount)), .text(context.idempotencyKey)]
        )
    }

    /// Creates the `charges` table in `store`'s file unless it exists. Call it before the
    /// consumer starts.
    public static func prepare(_ store: SQLiteDeduplicationStore) async throws {
        try await store.withMaintenanceTransaction { transaction in
            try transaction.execute(
                """
                CREATE TABLE IF NOT EXISTS charges (
                    order_id TEXT PRIMARY KEY NOT NULL,
                    amount INTEGER NOT NULL,
                    idempotency_key TEXT NOT NULL
                )
                """,
                []
            )
        }
    }

    /// How many orders the `charges` table holds.
    public static func chargeCount(in store: SQLiteDeduplicationStore) async throws -> Int {
        try await store.withMaintenanceTransaction { transaction in
            let rows = try transaction.query("SELECT COUNT(*) AS charges FROM charges", [])
            guard case .integer(let count) = rows.first?["charges"] else { return 0 }
            return Int(count)
        }
    }
}

/// An order that cannot be charged.
public struct BillingError: Error, CustomStringConvertible {
    public let description: String

    public init(_ description: String) {
        self.description = description
    }
}
