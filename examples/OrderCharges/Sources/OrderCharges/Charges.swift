import KafkaOnce
import KafkaOnceSQLite

/// The application's own table, kept in the store's SQLite file so that a charge and the record
/// of its message commit in one transaction.
///
/// The primary key on `order_id` is a second line of defence: if an order ever reached the
/// handler twice, the insert would fail instead of charging again.
enum Charges {
    static let createTable = """
        CREATE TABLE IF NOT EXISTS charges (
            order_id TEXT PRIMARY KEY NOT NULL,
            customer TEXT NOT NULL,
            amount INTEGER NOT NULL,
            idempotency_key TEXT NOT NULL
        )
        """

    /// Charges `order` by inserting its row in `transaction`.
    static func charge(_ order: Order, key: String, in transaction: any SQLExecutor) throws {
        try transaction.execute(
            "INSERT INTO charges (order_id, customer, amount, idempotency_key) VALUES (?, ?, ?, ?)",
            [.text(order.order), .text(order.customer), .integer(Int64(order.amount)), .text(key)]
        )
    }

    /// The charged orders whose ID starts with `prefix`, by ID.
    static func list(withPrefix prefix: String, in transaction: any SQLExecutor) throws -> [Order] {
        let sql = "SELECT order_id, customer, amount FROM charges WHERE order_id LIKE ? ORDER BY order_id"
        let rows = try transaction.query(sql, [.text(prefix + "%")])
        return rows.compactMap { row in
            guard case .text(let id) = row["order_id"], case .text(let customer) = row["customer"],
                case .integer(let amount) = row["amount"]
            else { return nil }
            return Order(order: id, customer: customer, amount: Int(amount))
        }
    }
}
