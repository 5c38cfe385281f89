import Foundation
import KafkaOnce
import KafkaOnceSQLite
import KafkaOnceTesting
import OrderBilling
import Testing

/// The billing handler under redelivery: each scenario runs it on the embedded broker through a
/// fault, then checks that no acknowledged order was lost, none was charged twice, and no commit
/// ran ahead of the recorded outcomes.
@Suite(.serialized) struct ChargeHandlerChaosTests {
    @Test(arguments: [
        ChaosScenario.duplicateProduce, .crashBeforeCommit, .commitRejected, .zombie,
    ])
    func everyOrderIsChargedExactlyOnce(under scenario: ChaosScenario) async throws {
        let path = Self.temporaryStorePath()
        defer { Self.removeStore(at: path) }

        let report = try await Self.harness(storePath: path).run(scenario)

        #expect(report.skipped == nil, "\(report.skipped ?? "")")
        #expect(report.lost == 0, "lost: \(report.lostSample)")
        #expect(report.duplicated == 0, "charged twice: \(report.duplicatedSample)")
        #expect(report.commitsAheadOfRecords == 0)
        #expect(report.finalCommitAtHighWatermark)
        // A duplicate that reached the handler would break the primary key and be dead-lettered.
        #expect(report.deadLettered == 0)
        #expect(try await Self.chargeCount(at: path) == report.distinct)
    }

    @Test func poisonOrdersAreDeadLetteredAndTheOthersChargedOnce() async throws {
        let path = Self.temporaryStorePath()
        defer { Self.removeStore(at: path) }

        let report = try await Self.harness(storePath: path).run(.poisonMessages)

        #expect(report.passed, "\(report)")
        #expect(report.deadLettered > 0)
        #expect(report.distinct + report.deadLettered == report.acknowledged)
        #expect(try await Self.chargeCount(at: path) == report.distinct)
    }

    // MARK: - Support

    /// A harness that runs `ChargeHandler` in transactional mode on a SQLite store at
    /// `storePath`, recording each charge in the harness's ledger within the same transaction.
    static func harness(storePath: String) -> ChaosHarness {
        let handler = ChargeHandler()
        let subject = ChaosSubject.transactional(
            store: {
                let store = try SQLiteDeduplicationStore(path: storePath)
                try await ChargeHandler.prepare(store)
                return store
            },
            dialect: .sqlite
        ) { message, context, ledger in
            try handler.handle(message, context)
            try ledger.record(message, in: context.transaction)
        }
        var options = ChaosHarness.Options()
        options.messages = 300
        options.seed = 42
        options.drainLimit = .seconds(60)
        return ChaosHarness(subject: subject, options: options)
    }

    static func chargeCount(at path: String) async throws -> Int {
        let store = try SQLiteDeduplicationStore(path: path)
        let count = try await ChargeHandler.chargeCount(in: store)
        try await store.close()
        return count
    }

    static func temporaryStorePath() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("billing-\(UUID().uuidString).sqlite").path
    }

    static func removeStore(at path: String) {
        for suffix in ["", "-wal", "-shm"] {
            try? FileManager.default.removeItem(atPath: path + suffix)
        }
    }
}
