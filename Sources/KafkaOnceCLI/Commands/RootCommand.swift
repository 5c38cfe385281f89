/// `kafka-once` itself: gathers the subcommands and answers `--version`.
struct RootCommand: CommandGroup {
    static let version = "0.1.0"

    let name = "kafka-once"
    let summary = "effectively-once Kafka consumers over librdkafka"
    let synopsis: String? = "<subcommand> [options]"

    var options: [Option] {
        [.flag("version", help: "print the version and exit")]
    }

    var subcommands: [any Command] { CommandRegistry.commands }

    var discussion: String {
        """
        Store locations are URLs: memory:, sqlite:PATH, or postgres://USER@HOST:PORT/DATABASE.

        Every subcommand takes --help; exit code 2 means the command line was wrong, 1 that the \
        command failed.
        """
    }
}
