import KafkaOnce

/// `kafka-once store stats`: counts a store's records by state.
struct StoreStatsCommand: Command {
    let name = "stats"
    let summary = "count records by state"

    var options: [Option] { [StoreOptions.location, .json] }

    var discussion: String {
        """
        JSON keys: store, inProgress, completed, failed, total, oldestUpdate, newestUpdate \
        (ISO 8601 times in UTC, null when the store is empty).
        """
    }

    func run(_ arguments: ParsedArguments) async throws -> Int32 {
        let (location, statistics) = try await StoreOptions.withStore(arguments) { location, store in
            (location, try await store.statistics())
        }

        if arguments.isJSON {
            Console.json([
                "store": .string(location.description),
                "inProgress": .integer(statistics.inProgress),
                "completed": .integer(statistics.completed),
                "failed": .integer(statistics.failed),
                "total": .integer(statistics.total),
                "oldestUpdate": .timestamp(statistics.oldestUpdate),
                "newestUpdate": .timestamp(statistics.newestUpdate),
            ])
        } else {
            let table = TextTable.keyValue([
                ("store", location.description),
                ("in progress", String(statistics.inProgress)),
                ("completed", String(statistics.completed)),
                ("failed", String(statistics.failed)),
                ("total", String(statistics.total)),
                ("oldest update", statistics.oldestUpdate.map(TimestampFormat.string) ?? "-"),
                ("newest update", statistics.newestUpdate.map(TimestampFormat.string) ?? "-"),
            ])
            Console.output(table.rendered())
        }
        return ExitCode.success
    }
}
