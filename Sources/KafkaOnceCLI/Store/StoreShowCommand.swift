import KafkaOnce

/// `kafka-once store show KEY`: prints the record of one key.
struct StoreShowCommand: Command {
    let name = "show"
    let summary = "print the record of one key"

    var positionals: [Positional] {
        [Positional("KEY", help: "the namespaced key, such as orders/id:8f14e45f")]
    }

    var options: [Option] { [StoreOptions.location, .json] }

    var discussion: String {
        """
        Exits with 1 when the store has no record of KEY. JSON keys: key, state (in_progress, \
        completed or failed), fingerprint, owner, epoch, origin (topic, partition, offset), \
        leaseExpiry, attempts, failureReason, resultBase64, createdAt, updatedAt.
        """
    }

    func run(_ arguments: ParsedArguments) async throws -> Int32 {
        let key = arguments.positional("KEY") ?? ""
        let (location, record) = try await StoreOptions.withStore(arguments) { location, store in
            (location, try await store.record(for: key))
        }

        guard let record else {
            throw CommandFailure(
                "no record of key '\(key)' in \(location); keys are namespaced as GROUP/STRATEGY:VALUE"
            )
        }
        if arguments.isJSON {
            Console.json(record.json)
        } else {
            Console.output(record.table.rendered())
        }
        return ExitCode.success
    }
}
