import KafkaOnceSQLite
import KafkaOnceTesting
import Testing

@Suite struct SQLiteConformanceTests {
    @Test(arguments: DeduplicationStoreConformance.Behaviour.allCases)
    func conformsToTheStoreContract(_ behaviour: DeduplicationStoreConformance.Behaviour) async throws {
        try await withTemporaryDirectory { directory in
            try await DeduplicationStoreConformance.check(behaviour) {
                try SQLiteDeduplicationStore(path: directory + "/store.sqlite")
            }
        }
    }
}
