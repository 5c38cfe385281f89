import Foundation
import KafkaOnce
import KafkaOnceSQLite
import Synchronization

/// Runs `body` with the path of a new, empty directory, and removes the directory afterwards.
func withTemporaryDirectory<Value>(_ body: (String) async throws -> Value) async throws -> Value {
    let directory = FileManager.default.temporaryDirectory
        .appendingPathComponent("kafka-once-sqlite-tests-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    return try await body(directory.path)
}

/// Requests, outcomes and fences on one test topic.
enum Fixtures {
    static let topic = "orders"

    static func partition(_ number: Int32 = 0) -> KafkaTopicPartition {
        KafkaTopicPartition(topic: topic, partition: number)
    }

    static func request(_ key: String, partition: Int32 = 0, offset: Int64 = 0) -> ClaimRequest {
        ClaimRequest(
            key: key,
            fingerprint: MessageFingerprint(payload: Array(key.utf8)),
            origin: KafkaTopicPartitionOffset(topic: topic, partition: partition, offset: offset)
        )
    }

    static func completed(_ key: String, result: [UInt8]? = [7], partition: Int32 = 0) -> RecordedOutcome {
        RecordedOutcome(
            key: key,
            fingerprint: MessageFingerprint(payload: Array(key.utf8)),
            origin: KafkaTopicPartitionOffset(topic: topic, partition: partition, offset: 0),
            kind: .completed(result: result),
            attempts: 1
        )
    }

    /// Acquires `partition` for `owner` and returns its fence.
    static func fence(
        _ store: some DeduplicationStore,
        partition number: Int32 = 0,
        owner: String = "consumer-1"
    ) async throws -> PartitionFence {
        let epochs = try await store.acquire([partition(number)], owner: owner)
        let epoch = epochs[partition(number)] ?? 0
        return PartitionFence(partition: partition(number), owner: owner, epoch: epoch)
    }
}

/// Whether `body` threw a ``DeduplicationStoreError`` with `code`; returns that error.
func storeError(
    _ code: DeduplicationStoreError.Code,
    _ body: () async throws -> Void
) async -> DeduplicationStoreError? {
    do {
        try await body()
        return nil
    } catch let error as DeduplicationStoreError where error.code == code {
        return error
    } catch {
        return nil
    }
}

/// A flag one task sets and another reads.
final class Flag: Sendable {
    private let state = Mutex(false)

    var isSet: Bool { state.withLock { $0 } }

    func set() {
        state.withLock { $0 = true }
    }
}
