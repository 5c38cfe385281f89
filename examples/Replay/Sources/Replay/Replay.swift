import Foundation
import KafkaOnce
import KafkaOnceSQLite

/// Replays a topic after a bug fix: the messages the buggy release applied are skipped, and only
/// the ones it failed on, or never saw, run with the fixed handler.
///
/// Runs on an embedded broker by default, and against real brokers when `KAFKA_BOOTSTRAP_SERVERS`
/// is set.
@main
struct Replay {
    static let topic = "invoices"
    static let deadLetterTopic = "invoices.dead-letter"
    static let group = "invoicing"

    static func main() async {
        do {
            try await replayAfterFix()
        } catch {
            FileHandle.standardError.write(Data("replay: \(error)\n".utf8))
            exit(1)
        }
    }

    static func replayAfterFix() async throws {
        let broker = try ExampleBroker.start(topics: [topic: 3, deadLetterTopic: 1])
        defer { broker.shutdown() }
        print(broker)
        let storePath = FileManager.default.temporaryDirectory
            .appendingPathComponent("replay-\(UUID().uuidString).sqlite").path
        defer { removeStore(at: storePath) }
        let store = try SQLiteDeduplicationStore(path: storePath)
        let ledger = Ledger()
        let batch = String(UInt32.random(in: 0...UInt32.max), radix: 36)

        // 1. Release 1 posts invoices, but fails on decimal commas: it dead-letters those, and
        //    records them as failed.
        let invoices = Invoice.samples(batch: batch, numbers: 1...24)
        try await broker.produce(try invoices.map { try $0.record(topic: topic) })
        print("produced invoices 01-24; every fourth writes its amount with a decimal comma")
        let release1 = makeConsumer(release: 1, AmountParser.release1, broker: broker, store: store, ledger: ledger)
        let handled = try await release1.run(
            until: { $0.processed + $0.deadLettered >= invoices.count },
            limit: .seconds(60)
        )
        guard handled else { throw InvoiceError("release 1 did not get through the invoices within 60 s") }
        let posted = ledger.invoices(postedBy: 1).count
        print("release 1 posted \(posted) invoices and dead-lettered \(release1.metrics.snapshot().deadLettered)")

        // 2. While release 2 is prepared, more invoices arrive.
        let late = Invoice.samples(batch: batch, numbers: 25...28)
        try await broker.produce(try late.map { try $0.record(topic: topic) })
        print("produced invoices 25-28 while no consumer ran")

        // 3. The dry run: what would a replay from the beginning skip, and what would it run?
        let configuration = makeConfiguration(broker: broker)
        let plan = try await ReplayPlan.make(
            topic: topic,
            bootstrapServers: broker.bootstrapServers,
            keys: configuration.keys,
            namespace: configuration.keys.namespace ?? configuration.consumer.groupID,
            store: store
        )
        print("dry run over \(plan.applied.count + plan.failed.count + plan.unseen.count) messages:")
        print("  \(plan.applied.count) applied already: skipped")
        print("  \(plan.failed.count) failed under release 1: skipped unless forgotten (\(numbers(of: plan.failed)))")
        print("  \(plan.unseen.count) never seen: run (\(numbers(of: plan.unseen)))")

        // 4. Forget the failed keys, so that the fixed handler runs those messages; then rewind.
        for entry in plan.failed {
            try await store.forget(entry.key)
        }
        try await GroupRewind.toBeginning(of: topic, group: configuration.consumer)
        print("forgot the \(plan.failed.count) failed keys and rewound group \(group) to the beginning")

        // 5. Release 2 replays the whole topic: only the forgotten and the unseen messages run.
        let toRun = plan.failed.count + plan.unseen.count
        let release2 = makeConsumer(release: 2, AmountParser.release2, broker: broker, store: store, ledger: ledger)
        let replayed = try await release2.run(
            until: { $0.processed >= toRun && $0.duplicatesSkipped >= plan.applied.count },
            limit: .seconds(60)
        )
        try await store.close()
        let rerun = ledger.invoices(postedBy: 2)
        print("release 2 posted \(rerun.count) invoices: \(rerun.map { String($0.suffix(2)) }.joined(separator: ", "))")
        print("release 2 skipped \(release2.metrics.snapshot().duplicatesSkipped) invoices release 1 had posted")

        let announced = Set((plan.failed + plan.unseen).map(\.invoice))
        guard replayed, Set(rerun) == announced else {
            throw InvoiceError("release 2 posted other invoices than the dry run announced")
        }
        // The handler passes each message's idempotency key to the ledger, which keeps one posting
        // per key: a call repeated in a plain handler's window (after a lost partition, say)
        // changes nothing there. Say so when it happened.
        let repeated = ledger.callCount - ledger.postingCount
        if repeated > 0 {
            print("\(repeated) handler call(s) repeated a posting; the ledger dropped them by their key")
        }
        print("the replay ran what the dry run announced; each of the \(ledger.postingCount) invoices posted once")
    }

    static func makeConfiguration(broker: ExampleBroker) -> EffectivelyOnceConfiguration {
        var configuration = EffectivelyOnceConfiguration(
            bootstrapServers: broker.bootstrapServers,
            groupID: group,
            topics: [topic]
        )
        configuration.keys = KeyDerivation([.header("idempotency-key")])
        // A malformed amount fails the same way on every attempt: dead-letter it at once.
        configuration.retry = RetryPolicy(maxAttempts: 1)
        configuration.failurePolicy = .deadLetter(topic: deadLetterTopic)
        if broker.isEmbedded {
            // The embedded broker lets a rebalance wait for the session timeout of a member that
            // left; a short session keeps the example quick.
            configuration.consumer.sessionTimeout = .seconds(6)
            configuration.consumer.properties["heartbeat.interval.ms"] = "500"
        }
        return configuration
    }

    /// A consumer whose handler reads amounts with `parse` and posts invoices to `ledger`,
    /// passing the idempotency key along.
    ///
    /// Plain mode (`store:`), not transactional: the ledger is outside the store's transaction.
    static func makeConsumer(
        release: Int,
        _ parse: @escaping @Sendable (String) throws -> Int,
        broker: ExampleBroker,
        store: SQLiteDeduplicationStore,
        ledger: Ledger
    ) -> EffectivelyOnceConsumer {
        EffectivelyOnceConsumer(
            configuration: makeConfiguration(broker: broker),
            store: store,
            handler: { message, context in
                let invoice = try Invoice(from: message)
                let cents = try parse(invoice.amount)
                ledger.post(invoice, cents: cents, idempotencyKey: context.idempotencyKey, release: release)
            }
        )
    }

    /// `04, 08, 12`: the invoices' numbers, without the batch.
    static func numbers(of entries: [ReplayPlan.Entry]) -> String {
        entries.isEmpty ? "none" : entries.map { String($0.invoice.suffix(2)) }.sorted().joined(separator: ", ")
    }

    static func removeStore(at path: String) {
        for suffix in ["", "-wal", "-shm"] {
            try? FileManager.default.removeItem(atPath: path + suffix)
        }
    }
}
