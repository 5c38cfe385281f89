import Testing

/// Behaviour of the tool as a whole: version, help, and how it reports a wrong command line.
@Suite struct CommandLineTests {
    static let subcommandPaths: [[String]] = [
        ["demo"], ["run"], ["replay"], ["store"], ["store", "stats"], ["store", "show"], ["store", "forget"],
        ["store", "purge"], ["mock-cluster"], ["chaos"], ["bench"],
    ]

    @Test func versionPrintsNameAndVersion() async throws {
        let result = try await ToolProcess.run("--version")

        #expect(result.exitCode == 0)
        #expect(result.standardOutput == "kafka-once 0.1.0\n")
        #expect(result.standardError.isEmpty)
    }

    @Test func helpListsEverySubcommand() async throws {
        let result = try await ToolProcess.run("--help")

        #expect(result.exitCode == 0)
        for name in ["demo", "run", "replay", "store", "mock-cluster", "chaos", "bench"] {
            #expect(result.standardOutput.contains("\n  \(name) "), "missing \(name) in \(result.standardOutput)")
        }
    }

    @Test(arguments: subcommandPaths)
    func helpOfEverySubcommandExitsZero(path: [String]) async throws {
        let result = try await ToolProcess(path + ["--help"]).finish()

        #expect(result.exitCode == 0)
        #expect(result.standardOutput.contains("Usage: kafka-once \(path.joined(separator: " "))"))
        #expect(result.standardError.isEmpty)
    }

    @Test func helpWinsOverOtherMistakes() async throws {
        let result = try await ToolProcess.run("run", "--grup", "--help")

        #expect(result.exitCode == 0)
        #expect(result.standardOutput.contains("--group GROUP"))
    }

    @Test func unknownSubcommandIsAUsageErrorOnOneLine() async throws {
        let result = try await ToolProcess.run("frobnicate")

        #expect(result.exitCode == 2)
        #expect(result.standardOutput.isEmpty)
        #expect(result.errorLines == ["kafka-once: unknown subcommand 'frobnicate'; see 'kafka-once --help'"])
    }

    @Test func misspelledSubcommandGetsASuggestion() async throws {
        let result = try await ToolProcess.run("stor", "stats")

        #expect(result.exitCode == 2)
        #expect(result.errorLines.count == 1)
        #expect(result.standardError.contains("did you mean 'store'?"))
    }

    @Test func missingSubcommandIsAUsageError() async throws {
        let bare = try await ToolProcess.run()
        let storeAlone = try await ToolProcess.run("store")

        #expect(bare.exitCode == 2)
        #expect(bare.errorLines == ["kafka-once: missing subcommand; see 'kafka-once --help'"])
        #expect(storeAlone.exitCode == 2)
        #expect(storeAlone.errorLines == ["kafka-once store: missing subcommand; see 'kafka-once store --help'"])
    }

    @Test func runWithoutGroupNamesTheMissingOption() async throws {
        let result = try await ToolProcess.run(
            "run",
            "--bootstrap-servers",
            "127.0.0.1:9092",
            "--topic",
            "orders",
            "--store",
            "memory:",
            "--exec",
            "cat"
        )

        #expect(result.exitCode == 2)
        #expect(result.standardOutput.isEmpty)
        #expect(result.errorLines == ["kafka-once run: missing --group; see 'kafka-once run --help'"])
    }

    @Test func unknownOptionIsNamedWithTheCommandsHelp() async throws {
        let result = try await ToolProcess.run("run", "--grup", "orders")

        #expect(result.exitCode == 2)
        #expect(result.errorLines.count == 1)
        #expect(result.standardError.hasPrefix("kafka-once run: unknown option '--grup'"))
        #expect(result.standardError.contains("did you mean '--group'?"))
        #expect(result.standardError.hasSuffix("; see 'kafka-once run --help'\n"))
    }

    @Test(arguments: [
        (["store", "stats", "--store"], "missing value for --store"),
        (["store", "stats", "--store", "memory:", "--store", "memory:"], "--store given more than once"),
        (["store", "stats", "--store", "memory:", "--json=yes"], "--json takes no value"),
        (["store", "stats", "--store", "memory:", "surplus"], "unexpected argument 'surplus'"),
        (["store", "show", "--store", "memory:"], "missing KEY"),
        (["store", "purge", "--store", "memory:", "--older-than", "soon"], "invalid value 'soon' for --older-than"),
        (["store", "purge", "--store", "memory:", "--older-than", "1d", "--batch-size", "0"], "--batch-size"),
        (["mock-cluster", "--brokers", "many"], "invalid value 'many' for --brokers; expected an integer"),
        (["mock-cluster", "--topic", "orders:none"], "invalid value 'orders:none' for --topic"),
    ])
    func malformedInputIsAUsageErrorNamingIt(arguments: [String], expected: String) async throws {
        let result = try await ToolProcess(arguments).finish()

        #expect(result.exitCode == 2)
        #expect(result.errorLines.count == 1)
        #expect(result.standardError.contains(expected), "\(result.standardError)")
    }

    @Test func usageErrorWithJSONWritesOneErrorObject() async throws {
        let result = try await ToolProcess.run("store", "stats", "--store", "nowhere", "--json")
        let object = try result.jsonObject()

        #expect(result.exitCode == 2)
        #expect(result.errorLines.count == 1)
        #expect(object["command"] as? String == "kafka-once store stats")
        #expect(object["exitCode"] as? Int == 2)
        #expect((object["error"] as? String)?.contains("'nowhere'") == true)
    }
}
