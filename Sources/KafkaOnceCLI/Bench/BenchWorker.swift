import Foundation

/// The child side of `kafka-once bench`: measures one mode and writes the measurement as one
/// JSON line on standard output.
enum BenchWorker {
    static func run(_ assignment: BenchAssignment) async throws -> Int32 {
        let measurement =
            switch assignment.mode {
            case .raw: try await BenchRawLoop.measure(assignment)
            default: try await BenchRuntimeRun.measure(assignment)
            }
        Console.output(String(decoding: try JSONEncoder().encode(measurement), as: UTF8.self))
        return ExitCode.success
    }
}
