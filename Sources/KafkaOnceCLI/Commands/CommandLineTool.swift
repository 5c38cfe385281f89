/// Selects the subcommand, parses its arguments, runs it, and turns every outcome into an exit
/// code and at most one line on standard error.
enum CommandLineTool {
    /// Runs the tool on `tokens`, the process arguments without the program name.
    static func main(_ tokens: [String]) async -> Int32 {
        var command: any Command = RootCommand()
        var path = command.name
        var remaining = tokens[...]
        let wantsJSON = tokens.prefix { $0 != "--" }.contains(Option.json.spelling)

        do {
            // Walk down through command groups until a command that runs.
            while !command.subcommands.isEmpty {
                guard let token = remaining.popFirst() else { throw UsageError("missing subcommand") }
                if token == "--help" || token == "-h" {
                    Console.output(HelpText.render(command, path: path))
                    return ExitCode.success
                }
                if command is RootCommand, token == "--version" {
                    Console.output("\(RootCommand().name) \(RootCommand.version)")
                    return ExitCode.success
                }
                command = try subcommand(of: command, named: token)
                path += " " + command.name
            }

            let parser = ArgumentParser(options: command.options, positionals: command.positionals)
            switch try parser.parse(Array(remaining), commandPath: path) {
            case .help:
                Console.output(HelpText.render(command, path: path))
                return ExitCode.success
            case .arguments(let arguments):
                return try await command.run(arguments)
            }
        } catch let error as UsageError {
            let message = "\(error.message); see '\(path) --help'"
            report(path: path, line: message, json: wantsJSON ? (message, ExitCode.usage) : nil)
            return ExitCode.usage
        } catch {
            let message = describe(error)
            report(path: path, line: "error: " + message, json: wantsJSON ? (message, ExitCode.failure) : nil)
            return ExitCode.failure
        }
    }

    private static func subcommand(of group: any Command, named token: String) throws(UsageError) -> any Command {
        if let match = group.subcommands.first(where: { $0.name == token }) {
            return match
        }
        if token.hasPrefix("-") {
            throw UsageError("unknown option '\(token)'")
        }
        let names = group.subcommands.map(\.name)
        let hint = closestMatch(to: token, among: names).map { " (did you mean '\($0)'?)" } ?? ""
        throw UsageError("unknown subcommand '\(token)'\(hint)")
    }

    /// Writes a failure as one line on standard error and, for `--json`, as the one JSON object on
    /// standard output (keys `command`, `error`, `exitCode`) unless the command already wrote it.
    private static func report(path: String, line: String, json: (message: String, exitCode: Int32)?) {
        Console.log("\(path): \(line)")
        if let json, !Console.hasWrittenJSON {
            Console.json([
                "command": .string(path), "error": .string(json.message), "exitCode": .integer(json.exitCode),
            ])
        }
    }

    /// An error's own description, on one line.
    private static func describe(_ error: any Error) -> String {
        let text =
            switch error {
            case is CancellationError: "interrupted"
            case let error as CustomStringConvertible: error.description
            default: String(describing: error)
            }
        return text.split(whereSeparator: \.isNewline).map { $0.trimmingPrefixWhitespace() }.joined(separator: " ")
    }
}

extension Substring {
    fileprivate func trimmingPrefixWhitespace() -> Substring {
        drop(while: \.isWhitespace)
    }
}
