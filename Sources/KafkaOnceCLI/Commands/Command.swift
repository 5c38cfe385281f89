/// One subcommand of `kafka-once`.
///
/// A command declares its options and positionals; the tool parses the command line against
/// them, answers `--help` from them, and calls ``run(_:)`` only with input that parsed. A command
/// reports bad input it can only judge itself (a store location, option combinations) by
/// throwing ``UsageError`` (exit code 2), and failures by throwing any other error (exit code 1);
/// either becomes one line on standard error.
///
/// ```swift
/// struct GreetCommand: Command {
///     let name = "greet"
///     let summary = "print a greeting"
///     var options: [Option] {
///         [.value("name", "NAME", required: true, help: "who to greet"), .json]
///     }
///
///     func run(_ arguments: ParsedArguments) async throws -> Int32 {
///         let name = try arguments.required("name", as: String.self)
///         if arguments.isJSON {
///             Console.json(["greeting": .string("hello \(name)")])
///         } else {
///             Console.output("hello \(name)")
///         }
///         return ExitCode.success
///     }
/// }
/// ```
protocol Command: Sendable {
    /// The word typed to select the command, such as `store`.
    var name: String { get }
    /// One line for lists of commands: lowercase, no final period.
    var summary: String { get }
    /// Paragraphs printed at the end of the help: details, caveats, examples.
    var discussion: String { get }
    /// The usage line after `Usage: <command path>`; generated from the options when `nil`.
    var synopsis: String? { get }
    var options: [Option] { get }
    var positionals: [Positional] { get }
    /// The commands this one gathers, such as `store stats`; a command with subcommands is never run.
    var subcommands: [any Command] { get }
    /// Whether `--help` leaves the command out: internal commands the tool runs in child processes.
    var isHidden: Bool { get }

    /// Does the work and returns the process's exit code, usually ``ExitCode/success``.
    ///
    /// Write results with ``Console``: with `--json`, exactly one ``Console/json(_:)`` call.
    ///
    /// - Throws: ``UsageError`` for input the parser could not judge; any other error for a
    ///   failure, described in one line that names what failed and what to do.
    func run(_ arguments: ParsedArguments) async throws -> Int32
}

extension Command {
    var discussion: String { "" }
    var synopsis: String? { nil }
    var options: [Option] { [] }
    var positionals: [Positional] { [] }
    var subcommands: [any Command] { [] }
    var isHidden: Bool { false }
}

/// A command that only gathers subcommands, such as `store`.
protocol CommandGroup: Command {}

extension CommandGroup {
    func run(_ arguments: ParsedArguments) async throws -> Int32 {
        throw UsageError("missing subcommand")
    }
}
