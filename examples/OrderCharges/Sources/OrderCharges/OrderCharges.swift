import Foundation
import KafkaOnce
import KafkaOnceSQLite

/// Charges every order once, even when an order is produced twice or redelivered.
///
/// Runs on an embedded broker by default, and against real brokers when `KAFKA_BOOTSTRAP_SERVERS`
/// is set. The charges are rows of a SQLite table written in the store's transaction, so a charge
/// and the record of its message commit together or not at all.
@main
struct OrderCharges {
    static let topic = "orders"

    static func main() async {
        do {
            try await chargeOrders()
        } catch {
            FileHandle.standardError.write(Data("order-charges: \(error)\n".utf8))
            exit(1)
        }
    }

    static func chargeOrders() async throws {
        let broker = try ExampleBroker.start(topics: [topic: 3])
        defer { broker.shutdown() }
        print(broker)

        // 1. Ten orders, three of them produced twice, as a producer retrying after a lost
        //    acknowledgement would.
        let batch = String(UInt32.random(in: 0...UInt32.max), radix: 36)
        let orders = Order.samples(batch: batch)
        let resent = [orders[1], orders[4], orders[8]]
        try await broker.produce((orders + resent).map { try $0.record(topic: topic) })
        print("produced \(orders.count) orders as \(orders.count + resent.count) records")
        print("sent twice: \(resent.map(\.order).joined(separator: ", "))")

        // 2. The store, holding the application's `charges` table in the same file.
        let storePath = makeStorePath(embedded: broker.isEmbedded)
        let store = try SQLiteDeduplicationStore(path: storePath)
        try await store.withMaintenanceTransaction { try $0.execute(Charges.createTable, []) }

        // 3. The consumer: each new order is charged in the store's transaction; a duplicate is
        //    skipped before the handler runs.
        var configuration = EffectivelyOnceConfiguration(
            bootstrapServers: broker.bootstrapServers,
            groupID: "order-charges",
            topics: [topic]
        )
        configuration.keys = KeyDerivation([.header("idempotency-key")])
        let consumer = EffectivelyOnceConsumer(
            configuration: configuration,
            transactionalStore: store,
            onDuplicate: { message, record in
                let order = message.header("idempotency-key")?.text ?? "?"
                print("skipped \(order) at \(message.coordinates): charged already from \(record.origin)")
            },
            transactionalHandler: { message, context in
                let order = try Order(from: message)
                try Charges.charge(order, key: context.idempotencyKey, in: context.transaction)
            }
        )
        let finished = try await consumer.run(
            until: { $0.processed >= orders.count && $0.duplicatesSkipped >= resent.count },
            limit: .seconds(60)
        )

        // 4. What was charged, read back from the table.
        let charges = try await store.withMaintenanceTransaction {
            try Charges.list(withPrefix: "order-\(batch)-", in: $0)
        }
        try await store.close()
        if broker.isEmbedded { removeStore(at: storePath) }
        report(charges, of: orders, metrics: consumer.metrics.snapshot())

        guard finished, Set(charges) == Set(orders) else {
            print("not every order was charged exactly once within 60 s")
            exit(1)
        }
        print("every order was charged exactly once")
    }

    /// A temporary file on the embedded broker, whose topics vanish with the process; a file in
    /// the working directory on a real broker, so that the store lives as long as the group's
    /// committed offsets.
    static func makeStorePath(embedded: Bool) -> String {
        guard embedded else { return "order-charges.sqlite" }
        return FileManager.default.temporaryDirectory
            .appendingPathComponent("order-charges-\(UUID().uuidString).sqlite").path
    }

    static func removeStore(at path: String) {
        for suffix in ["", "-wal", "-shm"] {
            try? FileManager.default.removeItem(atPath: path + suffix)
        }
    }

    static func report(_ charges: [Order], of orders: [Order], metrics: EffectivelyOnceMetrics.Snapshot) {
        print("charged \(charges.count) of \(orders.count) orders:")
        for charge in charges {
            let customer = charge.customer.padding(toLength: 8, withPad: " ", startingAt: 0)
            print("  \(charge.order)  \(customer) \(charge.formattedAmount)")
        }
        print(
            "processed \(metrics.processed), skipped \(metrics.duplicatesSkipped) duplicates, "
                + "\(metrics.deliveries) deliveries"
        )
    }
}
