import Foundation
import KafkaOnce

/// What one child process measures: a mode, the topic to read and where.
///
/// The parent passes it to `kafka-once bench` in the environment variable
/// ``environmentVariable`` rather than as options, so the worker side stays out of the help text
/// and a PostgreSQL password stays out of the process list.
struct BenchAssignment: Codable, Sendable {
    /// The variable that turns `kafka-once bench` into a worker for one mode.
    static let environmentVariable = "KAFKA_ONCE_BENCH_ASSIGNMENT"

    var mode: BenchMode
    var bootstrapServers: String
    var topic: String
    var partitions: Int
    /// How many messages the topic holds; the worker stops once it consumed them all.
    var messages: Int
    /// A consumer group no other run used, so the worker reads from the beginning.
    var groupID: String
    var postgresURL: String?
    /// librdkafka consumer properties on top of the defaults, the same for every mode.
    var consumerProperties: [String: String]
    /// The consumers' fetch wake-up interval in milliseconds; 0 for none.
    var fetchWakeupMilliseconds: Int
    /// How long the worker waits without progress before it reports what it consumed.
    var stallSeconds: Int

    /// The assignment in this process's environment, or `nil` when this process is not a worker.
    ///
    /// - Throws: ``CommandFailure`` when the variable is set but does not hold an assignment.
    static func fromEnvironment() throws -> BenchAssignment? {
        guard let text = Environment.value(for: environmentVariable) else { return nil }
        do {
            return try JSONDecoder().decode(BenchAssignment.self, from: Data(text.utf8))
        } catch {
            throw CommandFailure(
                "\(environmentVariable) does not hold a benchmark assignment (\(error)); "
                    + "unset it to run the benchmark"
            )
        }
    }

    /// The assignment as the value of ``environmentVariable``.
    func environmentValue() throws -> String {
        String(decoding: try JSONEncoder().encode(self), as: UTF8.self)
    }

    /// The fetch wake-up interval the consumers are configured with.
    var fetchWakeupInterval: Duration? {
        fetchWakeupMilliseconds > 0 ? .milliseconds(fetchWakeupMilliseconds) : nil
    }

    /// The benchmark topic's partitions.
    var topicPartitions: [KafkaTopicPartition] {
        (0..<partitions).map { KafkaTopicPartition(topic: topic, partition: Int32($0)) }
    }
}
