import Foundation
import KafkaOnce
import KafkaOncePostgres
import KafkaOnceSQLite
import KafkaOnceTesting
import Synchronization

/// The store a chaos run or the demo tests against, and the matching subject.
///
/// SQL stores run the runtime in transactional mode, with each effect written to the ledger in
/// the same transaction as its record; the in-memory store runs a plain handler.
final class ChaosStoreChoice: Sendable {
    let location: StoreLocation
    /// The SQLite file of the scenario being run, for the child process of the SIGKILL scenario.
    private let currentPath = Mutex<String?>(nil)
    private let directory: URL

    init(location: StoreLocation) {
        self.location = location
        directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "kafka-once-chaos-\(ProcessInfo.processInfo.processIdentifier)"
        )
    }

    /// `--store` as typed, with `sqlite` standing for a temporary file per scenario.
    static func parse(_ text: String?) throws(UsageError) -> StoreLocation {
        guard let text, text != "sqlite" else { return .sqlite(path: "") }
        if text == "memory" { return .memory }
        return try StoreLocation.parse(text)
    }

    var subject: ChaosSubject {
        switch location {
        case .memory:
            return .inMemory
        case .sqlite(let path):
            return .recordingEffects(in: { [self] in try makeSQLiteStore(fixedPath: path) }, dialect: .sqlite)
        case .postgres(let url):
            return .recordingEffects(in: { try await PostgresDeduplicationStore(url: url) }, dialect: .postgres)
        }
    }

    /// The `--store` a child process needs to reach the scenario's store.
    var childStoreArgument: String? {
        switch location {
        case .memory: nil
        case .sqlite: currentPath.withLock { $0 }.map { "sqlite:" + $0 }
        case .postgres(let url): url
        }
    }

    private func makeSQLiteStore(fixedPath: String) throws -> SQLiteDeduplicationStore {
        var path = fixedPath
        if path.isEmpty {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            path = directory.appendingPathComponent("\(UUID().uuidString).sqlite").path
        }
        currentPath.withLock { $0 = path }
        return try SQLiteDeduplicationStore(path: path)
    }

    /// Deletes the temporary SQLite files.
    func removeTemporaryFiles() {
        try? FileManager.default.removeItem(at: directory)
    }
}
