import Foundation
import KafkaOnce
import KafkaOnceSQLite
import KafkaOnceTesting
import Testing

/// The chaos scenarios that need effects in the store's transaction, run against SQLite.
@Suite(.serialized) struct SQLiteChaosTests {
    func harness(messages: Int = 500) -> ChaosHarness {
        var options = ChaosHarness.Options()
        options.messages = messages
        options.seed = 11
        options.drainLimit = .seconds(60)
        let subject = ChaosSubject.recordingEffects(
            in: {
                let path = FileManager.default.temporaryDirectory
                    .appendingPathComponent("chaos-\(UUID().uuidString).sqlite").path
                return try SQLiteDeduplicationStore(path: path)
            },
            dialect: .sqlite
        )
        return ChaosHarness(subject: subject, options: options)
    }

    @Test(arguments: [
        ChaosScenario.zombie, .crashBeforeCommit, .memberChurn, .heartbeatFailure, .poisonMessages, .duplicateProduce,
        .savepointsRefused,
    ])
    func transactionalScenarioLosesNothingAndDuplicatesNothing(_ scenario: ChaosScenario) async throws {
        let report = try await harness().run(scenario)
        #expect(report.skipped == nil)
        #expect(report.lost == 0, "lost: \(report.lostSample)")
        #expect(report.duplicated == 0, "duplicated: \(report.duplicatedSample)")
        #expect(report.commitsAheadOfRecords == 0)
        #expect(report.finalCommitAtHighWatermark)
        #expect(report.distinct + report.deadLettered == report.acknowledged)
    }

    @Test func aHandlerSlowerThanTheMaxPollIntervalStillHasOneEffect() async throws {
        let report = try await harness(messages: 200).run(.slowHandler)
        #expect(report.lost == 0, "lost: \(report.lostSample)")
        #expect(report.duplicated == 0, "duplicated: \(report.duplicatedSample)")
        #expect(report.finalCommitAtHighWatermark)
    }
}
