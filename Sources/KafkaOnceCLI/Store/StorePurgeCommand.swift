import KafkaOnce

import struct Foundation.Date

/// `kafka-once store purge --older-than DURATION`: deletes finished records past their retention.
struct StorePurgeCommand: Command {
    let name = "purge"
    let summary = "delete completed and failed records older than a duration"

    var options: [Option] {
        [
            .value(
                "older-than",
                "DURATION",
                required: true,
                help: "delete records last updated longer ago than this, such as 30s, 15m, 24h or 7d"
            ),
            StoreOptions.location,
            .value("batch-size", "N", default: "1000", help: "records deleted per statement"),
            .json,
        ]
    }

    var discussion: String {
        """
        In-progress records are kept whatever their age. A message whose record was purged is \
        processed again if it is redelivered, so keep records longer than Kafka keeps the \
        messages. JSON keys: store, cutoff (ISO 8601 time in UTC), purged.
        """
    }

    func run(_ arguments: ParsedArguments) async throws -> Int32 {
        let age = try arguments.required("older-than", as: Duration.self)
        let batchSize = try arguments.value("batch-size", default: 1000, atLeast: 1)
        let cutoff = Date(timeIntervalSinceNow: -age.timeInterval)

        let (location, purged) = try await StoreOptions.withStore(arguments) { location, store in
            (location, try await store.purge(updatedBefore: cutoff, batchSize: batchSize))
        }

        if arguments.isJSON {
            Console.json([
                "store": .string(location.description),
                "cutoff": .timestamp(cutoff),
                "purged": .integer(purged),
            ])
        } else {
            let noun = purged == 1 ? "record" : "records"
            Console.output(
                "purged \(purged) \(noun) last updated before \(TimestampFormat.string(cutoff)) from \(location)"
            )
        }
        return ExitCode.success
    }
}

extension Duration {
    /// The duration in seconds, as Foundation counts time.
    fileprivate var timeInterval: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}
