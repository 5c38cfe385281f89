import Foundation
import KafkaOnce
import KafkaOncePostgres
import Testing

/// The PostgreSQL server the tests run against, named by `KAFKA_ONCE_POSTGRES_URL`.
///
/// Start one with `scripts/postgres.sh start /tmp/pgtest 55432`, which prints the URL to export.
/// Tests share its database: each test writes keys and topics of its own, and the conformance
/// checks, which need an empty store, each get a schema of their own.
enum PostgresTestServer {
    /// An empty value counts as unset.
    static let url = ProcessInfo.processInfo.environment["KAFKA_ONCE_POSTGRES_URL"].flatMap { $0.isEmpty ? nil : $0 }

    static let skipReason: Comment = """
        set KAFKA_ONCE_POSTGRES_URL to a PostgreSQL server to run this test, for example the URL printed by \
        scripts/postgres.sh start /tmp/pgtest 55432
        """

    /// A new store on the test server's default schema.
    static func makeStore() async throws -> PostgresDeduplicationStore {
        try await PostgresDeduplicationStore(url: try #require(url))
    }

    /// Runs `body` with the URL of a schema created for it, dropped afterwards, so that the store
    /// `body` makes starts empty.
    static func withIsolatedSchema<Value: Sendable>(
        _ body: (String) async throws -> Value
    ) async throws -> Value {
        let base = try #require(url)
        let schema = "kafka_once_test_" + UUID().uuidString.prefix(8).lowercased()
        let admin = try await makeStore()
        try await admin.executeAsAdministrator("CREATE SCHEMA \(schema)")
        let separator = base.contains("?") ? "&" : "?"
        do {
            let value = try await body(base + separator + "options=-c%20search_path%3D\(schema)")
            try await admin.executeAsAdministrator("DROP SCHEMA \(schema) CASCADE")
            try await admin.close()
            return value
        } catch {
            _ = try? await admin.executeAsAdministrator("DROP SCHEMA \(schema) CASCADE")
            try? await admin.close()
            throw error
        }
    }
}

extension Trait where Self == ConditionTrait {
    /// Runs the test only when `KAFKA_ONCE_POSTGRES_URL` names a server, and says so when skipped.
    static var postgresServer: Self {
        .enabled(if: PostgresTestServer.url != nil, PostgresTestServer.skipReason)
    }
}

extension PostgresDeduplicationStore {
    /// Runs one statement in a maintenance transaction and returns its rows.
    @discardableResult
    func executeAsAdministrator(_ sql: String, _ parameters: [SQLValue] = []) async throws -> [SQLRow] {
        try await withMaintenanceTransaction { transaction in try transaction.query(sql, parameters) }
    }
}

/// Keys, topics and outcomes unique to one test, on the shared database.
struct TestBatch {
    let prefix = "pg-test-" + UUID().uuidString.prefix(8).lowercased()

    var topic: String { prefix + "-orders" }

    func partition(_ number: Int32 = 0) -> KafkaTopicPartition {
        KafkaTopicPartition(topic: topic, partition: number)
    }

    func key(_ name: String) -> String {
        "\(prefix)/\(name)"
    }

    func request(
        _ name: String,
        offset: Int64 = 0,
        partition: Int32 = 0,
        payload: String = "payload"
    ) -> ClaimRequest {
        ClaimRequest(
            key: key(name),
            fingerprint: MessageFingerprint(payload: Array(payload.utf8)),
            origin: KafkaTopicPartitionOffset(topic: topic, partition: partition, offset: offset)
        )
    }

    func completed(
        _ name: String,
        offset: Int64 = 0,
        partition: Int32 = 0,
        result: [UInt8]? = nil
    ) -> RecordedOutcome {
        RecordedOutcome(
            key: key(name),
            fingerprint: MessageFingerprint(payload: Array("payload".utf8)),
            origin: KafkaTopicPartitionOffset(topic: topic, partition: partition, offset: offset),
            kind: .completed(result: result),
            attempts: 1
        )
    }

    /// Acquires a partition for `owner` and returns its fence.
    func acquire(
        _ number: Int32 = 0,
        owner: String,
        on store: some DeduplicationStore
    ) async throws -> PartitionFence {
        let epochs = try await store.acquire([partition(number)], owner: owner)
        return PartitionFence(
            partition: partition(number),
            owner: owner,
            epoch: try #require(epochs[partition(number)])
        )
    }

    /// A table for the test's own rows, standing for a handler's side effects.
    func createLedger(on store: PostgresDeduplicationStore) async throws -> String {
        let table = prefix.replacingOccurrences(of: "-", with: "_") + "_ledger"
        try await store.executeAsAdministrator(
            "CREATE TABLE \(table) (id text PRIMARY KEY, amount bigint NOT NULL)"
        )
        return table
    }
}

/// Calls `body` and returns the ``DeduplicationStoreError`` it throws, failing the test if it
/// throws none or another error.
func storeError(
    _ body: () async throws -> Void,
    sourceLocation: SourceLocation = #_sourceLocation
) async -> DeduplicationStoreError? {
    do {
        try await body()
        Issue.record("expected a DeduplicationStoreError, but the call succeeded", sourceLocation: sourceLocation)
    } catch let error as DeduplicationStoreError {
        return error
    } catch {
        Issue.record("expected a DeduplicationStoreError, got \(error)", sourceLocation: sourceLocation)
    }
    return nil
}
