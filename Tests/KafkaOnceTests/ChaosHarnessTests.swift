import Foundation
import KafkaOnce
import KafkaOnceTesting
import Testing

/// The chaos catalogue against the runtime with a plain handler on the in-memory store. The
/// transactional scenarios run against the SQL stores in their own suites.
@Suite(.serialized) struct ChaosHarnessTests {
    func harness(messages: Int = 600, seed: UInt64 = 7) -> ChaosHarness {
        var options = ChaosHarness.Options()
        options.messages = messages
        options.seed = seed
        options.drainLimit = .seconds(60)
        return ChaosHarness(subject: .inMemory, options: options)
    }

    @Test(arguments: [
        ChaosScenario.duplicateProduce, .commitRejected, .commitTimedOut, .crashBeforeCommit, .heartbeatFailure,
        .coordinatorMove, .memberChurn, .leaderMove, .clusterDown, .latency, .storeOutage, .poisonMessages,
    ])
    func scenarioLosesNothingAndDuplicatesNothing(_ scenario: ChaosScenario) async throws {
        let report = try await harness().run(scenario)
        #expect(report.skipped == nil)
        #expect(report.lost == 0, "lost: \(report.lostSample)")
        #expect(report.duplicated == 0, "duplicated: \(report.duplicatedSample)")
        #expect(report.commitsAheadOfRecords == 0)
        #expect(report.finalCommitAtHighWatermark)
        #expect(report.acknowledged == 600)
        #expect(report.distinct + report.deadLettered == report.acknowledged)
    }

    @Test func scenariosThatNeedTransactionsAreSkippedWithAReasonForAPlainHandler() async throws {
        let report = try await harness().run(.zombie)
        #expect(report.skipped?.contains("transactional") == true)
        #expect(report.passed)
    }

    @Test func theSameSeedPicksTheSameDuplicatesAndFaultPoints() async throws {
        let first = try await harness(messages: 300, seed: 99).run(.duplicateProduce)
        let second = try await harness(messages: 300, seed: 99).run(.duplicateProduce)
        let other = try await harness(messages: 300, seed: 100).run(.duplicateProduce)
        #expect(first.produced == second.produced)
        #expect(first.produced != other.produced)
    }
}
