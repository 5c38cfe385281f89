import Foundation
import KafkaOnce
import KafkaOnceTesting
import Synchronization
import Testing

/// A consumer that stops in the middle of a claimed run gives back the claims of the messages it
/// never started, so the next owner runs them as new, whatever its abandoned-claim policy.
@Suite struct StoppedMidRunTests {
    /// With `.perBatch`, m0 to m2 are handled and not yet recorded when the stop lands: they must be
    /// recorded before the worker ends, or the next owner runs them again.
    @Test(arguments: [OutcomeBatching.perMessage, .perBatch(maxMessages: 100)])
    func aStopMidRunKeepsWhatRanAndReleasesWhatDidNot(batching: OutcomeBatching) async throws {
        let topic = try TestCluster.uniqueTopic("mid-run", partitions: 2)
        let ids = (0..<20).map { "m\($0)" }
        // Partition 0 holds the run; partition 1 a key sent twice with two payloads, a conflict.
        try await produce(ids.map { ($0, 0, "payload-\($0)") } + [("c", 1, "first"), ("c", 1, "second")], to: topic)

        let store = InMemoryDeduplicationStore()
        let ledger = EffectLedger()
        let inHand = Atomic<Bool>(false)
        var configuration = runtimeConfiguration(topic: topic, partitions: 2)
        configuration.conflictPolicy = .stop
        configuration.outcomeBatching = batching

        // m2 stays in hand while partition 1 reaches its conflict, which stops the consumer and
        // revokes partition 0's worker: m3 and later, claimed with m2, never start.
        let first = EffectivelyOnceConsumer(configuration: configuration, store: store) { message, _ in
            let name = id(of: message)
            if name == "m2" {
                inHand.store(true, ordering: .releasing)
                _ = await eventually { ledger.effects["c"] == 1 }
                try await Task.sleep(for: .seconds(2))
            } else if name == "c" {
                _ = await eventually { inHand.load(ordering: .acquiring) }
            }
            ledger.apply(name)
        }
        let stopped = await #expect(throws: EffectivelyOnceError.self) { try await first.run() }
        #expect(stopped?.description.contains("conflict") == true)
        #expect(ledger.effects == ["m0": 1, "m1": 1, "m2": 1, "c": 1], "the stop did not land while m2 was in hand")
        let statistics = try await store.statistics()
        #expect(statistics.inProgress == 0, "claims of messages that never started were left in progress")
        #expect(statistics.completed == 4, "the messages handled before the stop were not all recorded")

        // The next owner skips abandoned claims, so any claim left behind would be a lost message.
        configuration.abandonedClaimPolicy = .skip
        configuration.conflictPolicy = .skip
        let maybeApplied = Mutex<[String]>([])
        let second = EffectivelyOnceConsumer(configuration: configuration, store: store) { message, context in
            if context.isMaybeApplied { maybeApplied.withLock { $0.append(id(of: message)) } }
            ledger.apply(id(of: message))
        }
        let drained = try await runUntil(second) {
            ledger.total == ids.count + 1 && second.metrics.snapshot().conflicts == 1
        }

        #expect(drained)
        #expect(Set(ledger.effects.keys) == Set(ids + ["c"]), "a message was lost")
        #expect(ledger.duplicated.isEmpty)
        #expect(second.metrics.snapshot().abandonedClaims == 0)
        #expect(maybeApplied.withLock { $0 }.isEmpty)
    }

    /// Produces `(id, partition, payload)` records, the id in the `idempotency-key` header.
    private func produce(_ records: [(String, Int32, String)], to topic: String) async throws {
        let producer = try KafkaProducer(configuration: .init(bootstrapServers: TestCluster.shared.bootstrapServers))
        try await producer.send(
            records.map { id, partition, payload in
                KafkaProducerRecord(
                    topic: topic,
                    partition: partition,
                    value: Array(payload.utf8),
                    headers: [KafkaHeader(name: "idempotency-key", text: id)]
                )
            }
        )
        try await producer.close()
    }
}
