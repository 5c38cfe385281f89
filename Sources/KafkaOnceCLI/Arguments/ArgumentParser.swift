/// Reads a command's tokens against the options and positionals it declares.
///
/// Accepted forms: `--name VALUE`, `--name=VALUE`, flags such as `--json`, positionals in the
/// declared order, and `--` to end options (everything after it is positional). `--help` or `-h`
/// anywhere asks for help, even among other mistakes. A value that starts with `--` must be given
/// as `--name=VALUE`, so a forgotten value is reported instead of swallowing the next option.
struct ArgumentParser: Sendable {
    /// What the tokens ask for.
    enum Outcome: Sendable {
        /// `--help` or `-h` was given.
        case help
        case arguments(ParsedArguments)
    }

    var options: [Option]
    var positionals: [Positional]

    /// Parses `tokens`, the arguments that follow the command's name.
    ///
    /// - Throws: ``UsageError`` naming the first unknown option, missing value, unexpected
    ///   argument, or missing required option; unless help was asked for.
    func parse(_ tokens: [String], commandPath: String) throws(UsageError) -> Outcome {
        var arguments = ParsedArguments(commandPath: commandPath, options: options, positionals: positionals)
        var firstError: UsageError?
        var wantsHelp = false
        var unfilledPositionals = positionals[...]
        var index = tokens.startIndex
        var optionsEnded = false

        while index < tokens.endIndex {
            let token = tokens[index]
            index += 1

            if !optionsEnded, token == "--" {
                optionsEnded = true
            } else if !optionsEnded, token == "--help" || token == "-h" {
                wantsHelp = true
            } else if !optionsEnded, token.hasPrefix("--") {
                do {
                    try readOption(token, following: tokens, at: &index, into: &arguments)
                } catch {
                    firstError = firstError ?? error
                }
            } else if !optionsEnded, token.hasPrefix("-"), token.count > 1, Double(token) == nil {
                firstError = firstError ?? UsageError("unknown option '\(token)'")
            } else if let positional = unfilledPositionals.popFirst() {
                arguments.set(token, for: positional)
            } else {
                firstError = firstError ?? UsageError("unexpected argument '\(token)'")
            }
        }

        if wantsHelp { return .help }
        if let firstError { throw firstError }
        try checkRequired(arguments, unfilledPositionals: unfilledPositionals)
        return .arguments(arguments)
    }

    /// Reads `--name`, `--name=VALUE` or `--name VALUE`, advancing `index` past a separate value.
    private func readOption(
        _ token: String,
        following tokens: [String],
        at index: inout Int,
        into arguments: inout ParsedArguments
    ) throws(UsageError) {
        let body = token.dropFirst(2)
        let name = String(body.prefix(while: { $0 != "=" }))
        let inlineValue = body.firstIndex(of: "=").map { String(body[body.index(after: $0)...]) }

        guard let option = options.first(where: { $0.name == name }) else {
            throw UsageError("unknown option '--\(name)'" + suggestion(for: name))
        }

        switch option.kind {
        case .flag:
            guard inlineValue == nil else { throw UsageError("\(option.spelling) takes no value") }
            arguments.set(flag: option)
        case .value, .repeatable:
            if option.kind == .value, arguments.contains(option.name) {
                throw UsageError("\(option.spelling) given more than once")
            }
            if let inlineValue {
                arguments.append(inlineValue, for: option)
            } else if index < tokens.endIndex, !tokens[index].hasPrefix("--") {
                arguments.append(tokens[index], for: option)
                index += 1
            } else {
                throw UsageError("missing value for \(option.spelling) \(option.valueName)")
            }
        }
    }

    private func checkRequired(
        _ arguments: ParsedArguments,
        unfilledPositionals: ArraySlice<Positional>
    ) throws(UsageError) {
        let missingOptions = options.filter { $0.isRequired && !arguments.contains($0.name) }.map(\.spelling)
        let missingPositionals = unfilledPositionals.filter(\.isRequired).map(\.name)
        let missing = missingPositionals + missingOptions
        guard missing.isEmpty else {
            throw UsageError("missing " + ParsedArguments.joined(missing, conjunction: "and"))
        }
    }

    /// ` (did you mean '--group'?)` when a declared option is close to `name`.
    private func suggestion(for name: String) -> String {
        closestMatch(to: name, among: options.map(\.name)).map { " (did you mean '--\($0)'?)" } ?? ""
    }
}
