/// The subcommands of `kafka-once`, in the order `kafka-once --help` lists them.
enum CommandRegistry {
    static let commands: [any Command] = [
        DemoCommand(),
        RunCommand(),
        ReplayCommand(),
        StoreCommand(),
        MockClusterCommand(),
        ChaosCommand(),
        BenchCommand(),
        ChaosWorkerCommand(),
    ]
}
