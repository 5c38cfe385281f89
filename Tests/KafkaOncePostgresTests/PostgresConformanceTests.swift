import KafkaOncePostgres
import KafkaOnceTesting
import Testing

@Suite(.postgresServer) struct PostgresConformanceTests {
    @Test(arguments: DeduplicationStoreConformance.Behaviour.allCases)
    func conformsToTheStoreContract(_ behaviour: DeduplicationStoreConformance.Behaviour) async throws {
        try await PostgresTestServer.withIsolatedSchema { url in
            try await DeduplicationStoreConformance.check(behaviour) {
                try await PostgresDeduplicationStore(url: url)
            }
        }
    }
}
