import KafkaOnce

/// `kafka-once store`: inspects and maintains a deduplication store.
struct StoreCommand: CommandGroup {
    let name = "store"
    let summary = "inspect and maintain a deduplication store"

    var subcommands: [any Command] {
        [StoreStatsCommand(), StoreShowCommand(), StoreForgetCommand(), StorePurgeCommand()]
    }

    var discussion: String {
        """
        Every subcommand takes --store URL: memory:, sqlite:PATH, or \
        postgres://USER@HOST:PORT/DATABASE. Keys read GROUP/KIND:VALUE, where KIND names \
        the strategy that found the key (id, ce, key, hash or at), for example orders/id:8f14e45f.
        """
    }
}

/// The options every `store` subcommand takes.
enum StoreOptions {
    static let location = Option.value(
        "store",
        "URL",
        required: true,
        help: "the store: memory:, sqlite:PATH, or postgres://USER@HOST:PORT/DATABASE"
    )

    /// Opens the store named by `--store`, runs `body` with it, and closes it whatever happens.
    static func withStore<Result: Sendable>(
        _ arguments: ParsedArguments,
        _ body: (StoreLocation, any DeduplicationStore) async throws -> Result
    ) async throws -> Result {
        let location = try arguments.required(Self.location.name, as: StoreLocation.self)
        let store = try await location.open()
        do {
            let result = try await body(location, store)
            try await store.close()
            return result
        } catch {
            try? await store.close()
            throw error
        }
    }
}
