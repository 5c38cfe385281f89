import CRDKafka

/// Keeps a cooperative-sticky consumer that is closed in the middle of its first group join from
/// aborting the process.
///
/// librdkafka before 2.3.0 picks the assignor when the JoinGroup answer arrives but creates the
/// cooperative-sticky assignor's state only when the first assignment does; destroying the
/// handle between the two fails an assertion and aborts (confluentinc/librdkafka#4312). The
/// guard closes the window: before leaving the group, such a consumer polls until its first
/// assignment arrived, within a bound. When the bound passes first, its handle is never destroyed:
/// it stays allocated until the process exits, which is better than a crash while stopping.
enum FirstAssignmentGuard {
    /// librdkafka 2.3.0, the first release that destroys the state safely.
    private static let fixedVersion: Int32 = 0x0203_00ff

    /// Whether a consumer must wait for its first assignment before it is destroyed.
    static func isNeeded(_ configuration: KafkaConsumerConfiguration, subscribed: Bool, assigned: Bool) -> Bool {
        guard subscribed, !assigned, rd_kafka_version() < fixedVersion else { return false }
        let strategy = configuration.properties["partition.assignment.strategy"] ?? configuration.assignor.rawValue
        return strategy.contains(KafkaPartitionAssignor.cooperativeSticky.rawValue)
    }

    /// Polls `handle` until `isAssigned()` or `deadline`, serving its callbacks; the records a poll
    /// returns are dropped, uncommitted, for the partition's next owner to read.
    ///
    /// - Returns: Whether the first assignment arrived.
    static func waitForFirstAssignment(
        _ handle: OpaquePointer,
        until deadline: ContinuousClock.Instant,
        isAssigned: () -> Bool
    ) -> Bool {
        while !isAssigned() {
            guard ContinuousClock.now < deadline else { return false }
            if let message = rd_kafka_consumer_poll(handle, 100) { rd_kafka_message_destroy(message) }
        }
        return true
    }
}
