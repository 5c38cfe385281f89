import Foundation
import KafkaOnce
import KafkaOnceTesting
import Synchronization

/// One mock cluster shared by the suite; each test makes topics of its own.
enum TestCluster {
    static let shared: MockKafkaCluster = {
        do {
            return try MockKafkaCluster(brokers: 1)
        } catch {
            preconditionFailure("the embedded broker did not start: \(error)")
        }
    }()

    /// A topic name no other test uses.
    static func uniqueTopic(_ prefix: String, partitions: Int = 1) throws -> String {
        let name = "\(prefix)-\(UUID().uuidString.prefix(8))"
        try shared.createTopic(name, partitions: partitions)
        return name
    }

    /// Produces one record per id, with the id in the `idempotency-key` header, round robin
    /// over `partitions` partitions.
    @discardableResult
    static func produce(
        ids: [String],
        to topic: String,
        partitions: Int = 1,
        payload: (String) -> String = { "payload-\($0)" }
    ) async throws -> [KafkaTopicPartitionOffset] {
        let producer = try KafkaProducer(configuration: .init(bootstrapServers: shared.bootstrapServers))
        let records = ids.enumerated().map { index, id in
            KafkaProducerRecord(
                topic: topic,
                partition: Int32(index % partitions),
                key: Array(id.utf8),
                value: Array(payload(id).utf8),
                headers: [KafkaHeader(name: "idempotency-key", text: id)]
            )
        }
        let positions = try await producer.send(records)
        try await producer.close()
        return positions
    }
}

/// Counts effects per id, as a handler's side effects would be counted downstream.
final class EffectLedger: Sendable {
    private let counts = Mutex<[String: Int]>([:])
    private let attempts = Mutex<[String: Int]>([:])

    func apply(_ id: String) {
        counts.withLock { $0[id, default: 0] += 1 }
    }

    func attempt(_ id: String) -> Int {
        attempts.withLock { attempts in
            attempts[id, default: 0] += 1
            return attempts[id]!
        }
    }

    var effects: [String: Int] { counts.withLock { $0 } }
    var total: Int { effects.values.reduce(0, +) }
    var duplicated: [String] { effects.filter { $0.value > 1 }.map(\.key).sorted() }
}

/// Waits until `condition` holds or `limit` passes; returns whether it held.
func eventually(within limit: Duration = .seconds(30), _ condition: () async throws -> Bool) async rethrows -> Bool {
    let deadline = ContinuousClock.now + limit
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try? await Task.sleep(for: .milliseconds(50))
    }
    return try await condition()
}
