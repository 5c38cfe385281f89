import KafkaOnce

/// Per partition: where a replay starts, where the group is now, and where the partition ends.
struct ReplayPlan {
    struct Row {
        var target: KafkaTopicPartitionOffset
        /// The group's committed offset, or `nil` when it has none.
        var committed: Int64?
        var high: Int64
    }

    var rows: [Row]

    static func make(
        start: ReplayStart,
        partitions: [KafkaTopicPartition],
        consumer: KafkaConsumer
    ) async throws -> ReplayPlan {
        let committed = try await consumer.committed(partitions)
        var rows: [Row] = []
        let timestampOffsets: [KafkaTopicPartitionOffset]
        if case .timestamp(let date) = start {
            timestampOffsets = try await consumer.offsets(at: date, for: partitions)
        } else {
            timestampOffsets = []
        }

        for (index, partition) in partitions.enumerated() {
            let (low, high) = try await consumer.queryWatermarks(partition)
            let offset: Int64
            switch start {
            case .beginning:
                offset = low
            case .timestamp:
                let found = timestampOffsets[index].offset
                offset = found < 0 ? high : found
            case .offsets(let pairs):
                // A partition not named keeps its committed offset.
                guard let pair = pairs.first(where: { $0.partition == partition.partition }) else { continue }
                guard (low...high).contains(pair.offset) else {
                    throw UsageError(
                        "--to-offsets \(pair.partition):\(pair.offset) is outside \(partition)'s range \(low)...\(high)"
                    )
                }
                offset = pair.offset
            }
            let committedOffset = committed[index].offset >= 0 ? committed[index].offset : nil
            rows.append(
                Row(
                    target: KafkaTopicPartitionOffset(
                        topic: partition.topic,
                        partition: partition.partition,
                        offset: offset
                    ),
                    committed: committedOffset,
                    high: high
                )
            )
        }
        return ReplayPlan(rows: rows)
    }

    /// Messages from the new positions to the ends.
    var messageCount: Int64 { rows.reduce(0) { $0 + max(0, $1.high - $1.target.offset) } }

    func json(group: String, topic: String, counts: ReplayCounts?, isDryRun: Bool) -> JSONValue {
        [
            "group": .string(group),
            "topic": .string(topic),
            "dry_run": .bool(isDryRun),
            "partitions": .array(
                rows.map { row in
                    [
                        "partition": .integer(row.target.partition),
                        "from": .integer(row.target.offset),
                        "committed": .integer(row.committed),
                        "high": .integer(row.high),
                    ]
                }
            ),
            "messages": .integer(messageCount),
            "would_skip": .integer(counts?.skipped),
            "would_run": .integer(counts?.run),
        ]
    }

    func text(counts: ReplayCounts?, isDryRun: Bool) -> String {
        var table = TextTable(columns: [
            .init("partition", alignment: .right), .init("from", alignment: .right),
            .init("committed", alignment: .right), .init("end", alignment: .right),
        ])
        for row in rows {
            table.append([
                String(row.target.partition), String(row.target.offset), row.committed.map(String.init) ?? "-",
                String(row.high),
            ])
        }
        var lines = [table.rendered(), "\(messageCount) message(s) from the new positions to the end"]
        if let counts {
            lines.append("\(counts.skipped) would be skipped as already processed, \(counts.run) would run")
        }
        lines.append(isDryRun ? "dry run: nothing was changed" : "the group's offsets were rewound")
        return lines.joined(separator: "\n")
    }
}

/// How many messages of a replay the store already has.
struct ReplayCounts {
    var skipped: Int
    var run: Int

    /// Reads every message from the plan's positions to the ends and looks its key up.
    static func count(
        _ plan: ReplayPlan,
        keys: KeyDerivation,
        store: any DeduplicationStore,
        servers: String
    ) async throws -> ReplayCounts {
        let reader = try KafkaConsumer(
            configuration: KafkaConsumerConfiguration(bootstrapServers: servers, groupID: "kafka-once-replay-reader")
        )
        let pending = plan.rows.filter { $0.high > $0.target.offset }
        try await reader.assign(pending.map(\.target))
        var remaining = Dictionary(uniqueKeysWithValues: pending.map { ($0.target.partition, $0.high) })
        var counts = ReplayCounts(skipped: 0, run: 0)
        let namespace = keys.namespace ?? ""

        var idlePolls = 0
        while !remaining.isEmpty {
            let messages = try await reader.poll(maxMessages: 5000, timeout: .seconds(1))
            idlePolls = messages.isEmpty ? idlePolls + 1 : 0
            guard idlePolls < 15 else {
                throw CommandFailure(
                    "no records arrived for 15 s before the end of \(remaining.keys.sorted()); is the broker up?"
                )
            }
            let inRange = messages.filter { message in
                remaining[message.partition].map { message.offset < $0 } ?? false
            }
            let batchKeys = inRange.map { keys.key(for: $0, namespace: namespace).key }
            let finished = try await store.finishedKeys(among: batchKeys)
            let skipped = batchKeys.filter(finished.contains).count
            counts.skipped += skipped
            counts.run += batchKeys.count - skipped
            for message in messages where remaining[message.partition].map({ message.offset + 1 >= $0 }) ?? false {
                remaining[message.partition] = nil
            }
        }
        try await reader.close()
        return counts
    }
}
