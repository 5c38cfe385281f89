import KafkaOnce

/// What replaying a topic from the beginning would do with each message, according to the store:
/// the dry run of a replay.
struct ReplayPlan {
    /// A message of the topic, named by its invoice ID, with its idempotency key.
    struct Entry {
        var invoice: String
        var key: String
    }

    /// Completed keys: the replay skips them.
    var applied: [Entry] = []
    /// Keys recorded as failed (dead-lettered): skipped too, unless they are forgotten first.
    var failed: [Entry] = []
    /// Keys with no record: the replay runs them.
    var unseen: [Entry] = []

    /// Reads `topic` from its oldest message to its newest, one poll batch at a time, and asks the
    /// store about each batch's keys in one call. Nothing is claimed and no offset moves.
    static func make(
        topic: String,
        bootstrapServers: String,
        keys: KeyDerivation,
        namespace: String,
        store: any DeduplicationStore
    ) async throws -> ReplayPlan {
        var plan = ReplayPlan()
        try await TopicReader.read(topic, bootstrapServers: bootstrapServers) { batch in
            let entries = batch.map { message in
                Entry(
                    invoice: message.header("idempotency-key")?.text ?? "\(message.coordinates)",
                    key: keys.key(for: message, namespace: namespace).key
                )
            }
            let finished = try await store.finishedKeys(among: entries.map(\.key))
            for entry in entries {
                if !finished.contains(entry.key) {
                    plan.unseen.append(entry)
                } else if try await store.record(for: entry.key)?.state == .failed {
                    plan.failed.append(entry)
                } else {
                    plan.applied.append(entry)
                }
            }
        }
        return plan
    }
}
