import KafkaOnce

/// Checks on what callers pass, so that a bad argument fails with its name instead of as a server error.
enum PostgresValidation {
    /// Throws when `value` holds a NUL character, which PostgreSQL `text` cannot store.
    static func text(_ value: String, _ what: @autoclosure () -> String) throws(DeduplicationStoreError) {
        guard value.utf8.contains(0) else { return }
        throw DeduplicationStoreError(
            .invalidArgument,
            "\(what()) contains a NUL character, which PostgreSQL text cannot store; remove it"
        )
    }

    /// Throws when `origin` is not in the fence's partition: a batch is one partition's.
    static func origin(
        _ origin: KafkaTopicPartitionOffset,
        of key: String,
        in fence: PartitionFence
    ) throws(DeduplicationStoreError) {
        guard origin.topicPartition != fence.partition else { return }
        throw DeduplicationStoreError(
            .invalidArgument,
            "key '\(key)' comes from \(origin) but the fence is for \(fence.partition); "
                + "claim and record each partition's messages under that partition's own fence"
        )
    }

    /// Throws when the fence's owner or topic cannot be stored.
    static func fence(_ fence: PartitionFence) throws(DeduplicationStoreError) {
        try text(fence.owner, "the owner '\(fence.owner)'")
        try text(fence.partition.topic, "the topic '\(fence.partition.topic)'")
    }
}

/// `count` and `noun`, plural unless `count` is 1: "1 key", "3 keys".
func counted(_ count: Int, _ noun: String) -> String {
    "\(count) \(noun)\(count == 1 ? "" : "s")"
}
