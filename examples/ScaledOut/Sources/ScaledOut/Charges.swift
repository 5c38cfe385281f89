import KafkaOnce
import KafkaOncePostgres

/// The application's `charges` table, in the same PostgreSQL database as the store's records, so
/// that a charge and the record of its message commit in one transaction whichever instance
/// writes them.
enum Charges {
    /// Creates the table unless it exists. (`CREATE TABLE IF NOT EXISTS` would do the same, but
    /// PostgreSQL answers it with a notice that libpq prints on standard error.)
    static func create(in transaction: any SQLExecutor) throws {
        let sql = "SELECT to_regclass('charges') IS NOT NULL AS present"
        let found = try transaction.query(sql, [])
        guard found.first?["present"] != .integer(1) else { return }
        try transaction.execute(
            """
            CREATE TABLE charges (
                order_id text PRIMARY KEY,
                customer text NOT NULL,
                amount integer NOT NULL,
                instance text NOT NULL
            )
            """,
            []
        )
    }

    /// Charges `order` on behalf of `instance`, in the handler's transaction.
    static func charge(_ order: Order, by instance: String, in transaction: any SQLExecutor) throws {
        let amount = Int64(order.amount)
        try transaction.execute(
            "INSERT INTO charges (order_id, customer, amount, instance) VALUES ($1, $2, $3, $4)",
            [.text(order.order), .text(order.customer), .integer(amount), .text(instance)]
        )
    }

    /// Which instance charged each order whose ID starts with `prefix`.
    static func instances(
        withPrefix prefix: String,
        in transaction: any SQLExecutor
    ) throws -> [String: String] {
        let rows = try transaction.query(
            "SELECT order_id, instance FROM charges WHERE order_id LIKE $1",
            [.text(prefix + "%")]
        )
        var instances: [String: String] = [:]
        for row in rows {
            guard case .text(let order) = row["order_id"], case .text(let instance) = row["instance"] else {
                continue
            }
            instances[order] = instance
        }
        return instances
    }
}
