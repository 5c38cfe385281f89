import Foundation

/// Where the built `kafka-once` is: next to the test bundle, in the same build configuration.
///
/// `swift test` and `swift test -c release` put the test bundle and the tool in one directory
/// (`.build/<triple>/<configuration>/`), whatever the scratch path. Set `KAFKA_ONCE_EXECUTABLE`
/// to test another build.
enum ToolExecutable {
    static func url() throws -> URL {
        let fileManager = FileManager.default
        if let override = ProcessInfo.processInfo.environment["KAFKA_ONCE_EXECUTABLE"] {
            guard fileManager.isExecutableFile(atPath: override) else {
                throw ToolNotFound(searched: [override])
            }
            return URL(fileURLWithPath: override)
        }

        let candidates = candidateDirectories().map { $0.appendingPathComponent("kafka-once").standardizedFileURL }
        guard let found = candidates.first(where: { fileManager.isExecutableFile(atPath: $0.path) }) else {
            throw ToolNotFound(searched: candidates.map(\.path))
        }
        return found
    }

    /// The test process's own directory first (Linux runs the `.xctest` file itself), then the
    /// directory holding the `.xctest` bundle (macOS loads it into a runner), then the package's
    /// default build directories.
    private static func candidateDirectories() -> [URL] {
        var directories: [URL] = []
        if let executable = Bundle.main.executableURL {
            directories.append(executable.resolvingSymlinksInPath().deletingLastPathComponent())
        }
        directories.append(URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent())
        for bundle in Bundle.allBundles where bundle.bundlePath.hasSuffix(".xctest") {
            directories.append(bundle.bundleURL.deletingLastPathComponent())
        }

        let packageRoot = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent()  // Support
            .deletingLastPathComponent()  // KafkaOnceCLITests
            .deletingLastPathComponent()  // Tests
            .deletingLastPathComponent()
        directories.append(packageRoot.appendingPathComponent(".build/debug"))
        directories.append(packageRoot.appendingPathComponent(".build/release"))
        return directories
    }
}

/// The tool was not built where the tests look for it.
struct ToolNotFound: Error, CustomStringConvertible {
    var searched: [String]

    var description: String {
        "kafka-once is not built; looked at \(searched.joined(separator: ", ")); "
            + "run 'swift build' or set KAFKA_ONCE_EXECUTABLE"
    }
}
