import KafkaOnce

/// `kafka-once store forget KEY`: deletes one key's record, so its message is processed again.
struct StoreForgetCommand: Command {
    let name = "forget"
    let summary = "delete one key's record so its message is processed again when redelivered"

    var positionals: [Positional] {
        [Positional("KEY", help: "the namespaced key, such as orders/id:8f14e45f")]
    }

    var options: [Option] { [StoreOptions.location, .json] }

    var discussion: String {
        """
        Succeeds whether or not there was a record. JSON keys: store, key, forgotten (true when \
        a record was deleted).
        """
    }

    func run(_ arguments: ParsedArguments) async throws -> Int32 {
        let key = arguments.positional("KEY") ?? ""
        let (location, forgotten) = try await StoreOptions.withStore(arguments) { location, store in
            (location, try await store.forget(key))
        }

        if arguments.isJSON {
            Console.json(["store": .string(location.description), "key": .string(key), "forgotten": .bool(forgotten)])
        } else if forgotten {
            Console.output("forgot '\(key)'; its message will be processed again when redelivered")
        } else {
            Console.output("no record of '\(key)' in \(location); nothing to forget")
        }
        return ExitCode.success
    }
}
