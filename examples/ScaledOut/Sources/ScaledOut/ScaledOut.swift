import Foundation
import KafkaOnce
import KafkaOncePostgres

/// Three instances of one consumer group share a PostgreSQL store: each order is charged once,
/// whichever instance reads it, and a partition that moves to another instance keeps its history.
///
/// Needs `KAFKA_ONCE_POSTGRES_URL`. Runs on an embedded broker by default, and against real
/// brokers when `KAFKA_BOOTSTRAP_SERVERS` is set.
@main
struct ScaledOut {
    static let topic = "scaled-out-orders"
    static let group = "scaled-out"

    static func main() async {
        let url = ProcessInfo.processInfo.environment["KAFKA_ONCE_POSTGRES_URL"] ?? ""
        guard !url.isEmpty else {
            fail(
                "set KAFKA_ONCE_POSTGRES_URL to a PostgreSQL database, "
                    + "such as postgres://postgres@localhost:5432/kafka_once"
            )
        }
        do {
            try await chargeOrders(postgresURL: url)
        } catch {
            fail("\(error)")
        }
    }

    static func chargeOrders(postgresURL url: String) async throws {
        let broker = try ExampleBroker.start(topics: [topic: 6])
        defer { broker.shutdown() }
        print(broker)
        let setup = try await PostgresDeduplicationStore(url: url)
        try await setup.withMaintenanceTransaction { try Charges.create(in: $0) }

        // 1. Three instances join the group and share the first wave of orders.
        let instances = try await startInstances(["a", "b", "c"], on: broker, postgresURL: url)
        let batch = String(UInt32.random(in: 0...UInt32.max), radix: 36)
        let firstWave = Order.samples(batch: batch, numbers: 1...30)
        try await broker.produce(try firstWave.map { try $0.record(topic: topic) })
        print("produced orders 01-30; three instances share them")
        try await waitUntil(instances, processed: 30)

        // 2. Instance c leaves: its partitions move to a and b, their history kept in the store.
        let (staying, leaving) = (Array(instances.prefix(2)), instances[2])
        try await leaving.stop()
        print("instance c left the group after charging \(leaving.processed) orders")

        // 3. A second wave, and every fifth order of the first produced again.
        let secondWave = Order.samples(batch: batch, numbers: 31...50)
        let resent = stride(from: 0, to: firstWave.count, by: 5).map { firstWave[$0] }
        try await broker.produce(try (secondWave + resent).map { try $0.record(topic: topic) })
        print("produced orders 31-50, and orders \(numbers(of: resent)) again")
        let processedBefore = staying.reduce(0) { $0 + $1.processed }
        try await waitUntil(
            staying,
            processed: processedBefore + secondWave.count,
            skipping: resent.map(\.order)
        )
        for instance in staying {
            try await instance.stop()
        }

        // 4. Who charged what, read back from the table.
        let chargedBy = try await setup.withMaintenanceTransaction {
            try Charges.instances(withPrefix: "order-\(batch)-", in: $0)
        }
        try await setup.close()
        report(chargedBy, resent: resent, instances: instances)

        let expected = Set((firstWave + secondWave).map(\.order))
        guard Set(chargedBy.keys) == expected else {
            fail("expected \(expected.count) charged orders, found \(chargedBy.count)")
        }
        print("all \(chargedBy.count) orders were charged exactly once across the three instances")
    }

    static func startInstances(
        _ names: [String],
        on broker: ExampleBroker,
        postgresURL: String
    ) async throws -> [Instance] {
        var configuration = EffectivelyOnceConfiguration(
            bootstrapServers: broker.bootstrapServers,
            groupID: group,
            topics: [topic]
        )
        configuration.keys = KeyDerivation([.header("idempotency-key")])
        if broker.isEmbedded {
            // The embedded broker ends the rebalance that follows a departure only when the
            // session timeout runs out; a short session keeps the example quick.
            configuration.consumer.sessionTimeout = .seconds(6)
            configuration.consumer.properties["heartbeat.interval.ms"] = "500"
        }

        var instances: [Instance] = []
        for name in names {
            let instance = try await Instance(
                name: name,
                configuration: configuration,
                postgresURL: postgresURL
            )
            instance.start()
            instances.append(instance)
        }
        return instances
    }

    /// Waits until the instances together processed `processed` messages and skipped a copy of
    /// each of `orders`, for at most 90 seconds.
    static func waitUntil(
        _ instances: [Instance],
        processed: Int,
        skipping orders: [String] = []
    ) async throws {
        let deadline = ContinuousClock.now + .seconds(90)
        while ContinuousClock.now < deadline {
            if let error = instances.lazy.compactMap(\.error).first { throw error }
            let done = instances.reduce(0) { $0 + $1.processed }
            let skipped = Set(instances.flatMap(\.skippedOrders))
            if done >= processed && skipped.isSuperset(of: orders) { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw ExampleTimeout()
    }

    static func report(_ chargedBy: [String: String], resent: [Order], instances: [Instance]) {
        var charged: [String: Int] = [:]
        for instance in chargedBy.values {
            charged[instance, default: 0] += 1
        }
        for instance in instances {
            let count = charged[instance.name] ?? 0
            print("instance \(instance.name): charged \(count), skipped \(instance.skipped) as charged already")
        }

        let skippedBy = Dictionary(
            instances.flatMap { instance in instance.skippedOrders.map { ($0, instance.name) } },
            uniquingKeysWith: { first, _ in first }
        )
        for order in resent.map(\.order) {
            let charger = chargedBy[order] ?? "nobody"
            print("  \(order): charged by \(charger), its copy skipped by \(skippedBy[order] ?? "nobody")")
        }

        let skipped = instances.reduce(0) { $0 + $1.skipped }
        print(
            "skipped \(skipped) messages in all: the \(resent.count) copies, and \(skipped - resent.count) "
                + "redelivered after rebalances had refused their commits"
        )
    }

    /// `01, 06, 11`: the orders' numbers, without the batch.
    static func numbers(of orders: [Order]) -> String {
        orders.map { String($0.order.suffix(2)) }.joined(separator: ", ")
    }

    static func fail(_ message: String) -> Never {
        FileHandle.standardError.write(Data("scaled-out: \(message)\n".utf8))
        exit(1)
    }
}

/// The instances did not finish in time.
struct ExampleTimeout: Error, CustomStringConvertible {
    var description: String { "the orders were not all charged within 90 seconds" }
}
