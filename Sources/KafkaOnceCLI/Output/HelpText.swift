/// The `--help` text of a command, generated from what it declares.
enum HelpText {
    /// Lines are wrapped to this many columns.
    static let width = 80

    static func render(_ command: any Command, path: String) -> String {
        var sections = [
            "\(path): \(command.summary)",
            wrap("Usage: \(path) \(synopsis(of: command))", hangingIndent: "Usage: \(path) ".count),
        ]

        if !command.subcommands.isEmpty {
            let rows = command.subcommands.filter { !$0.isHidden }.map { ($0.name, $0.summary) }
            sections.append("Subcommands:\n" + twoColumns(rows))
        }
        if !command.positionals.isEmpty {
            let rows = command.positionals.map { ($0.name, $0.help + ($0.isRequired ? "" : " (optional)")) }
            sections.append("Arguments:\n" + twoColumns(rows))
        }
        let optionRows = command.options.map { (label(of: $0), description(of: $0)) }
        sections.append("Options:\n" + twoColumns(optionRows + [("-h, --help", "show this help")]))

        if !command.discussion.isEmpty {
            sections.append(command.discussion.split(separator: "\n").map { wrap(String($0)) }.joined(separator: "\n"))
        }
        if !command.subcommands.isEmpty {
            sections.append("Run '\(path) <subcommand> --help' for a subcommand's options.")
        }
        return sections.joined(separator: "\n\n")
    }

    /// `KEY --group GROUP --topic TOPIC... [options]` from the positionals and required options.
    private static func synopsis(of command: any Command) -> String {
        if let synopsis = command.synopsis { return synopsis }
        if !command.subcommands.isEmpty { return "<subcommand> [options]" }

        var parts = command.positionals.map { $0.isRequired ? $0.name : "[\($0.name)]" }
        parts += command.options.filter(\.isRequired).map { option in
            option.spelling + " " + option.valueName + (option.kind == .repeatable ? "..." : "")
        }
        if command.options.contains(where: { !$0.isRequired }) {
            parts.append("[options]")
        }
        return parts.joined(separator: " ")
    }

    private static func label(of option: Option) -> String {
        option.kind == .flag ? option.spelling : option.spelling + " " + option.valueName
    }

    private static func description(of option: Option) -> String {
        var text = option.help
        if option.kind == .repeatable { text += "; may be repeated" }
        if option.isRequired { text += " (required)" }
        if let defaultDescription = option.defaultDescription { text += " (default: \(defaultDescription))" }
        return text
    }

    /// Labels in a column, descriptions wrapped beside them; a label too wide for the column gets
    /// its description on the next line.
    private static func twoColumns(_ rows: [(String, String)]) -> String {
        let indent = 2
        let labelWidth = min(rows.map(\.0.count).max() ?? 0, 26)
        let descriptionIndent = indent + labelWidth + 2

        return rows.map { label, description in
            let wrapped = wrap(description, indent: descriptionIndent)
            let body = wrapped.dropFirst(descriptionIndent)
            let head = String(repeating: " ", count: indent) + label
            guard label.count <= labelWidth else {
                return head + "\n" + wrapped
            }
            return head + String(repeating: " ", count: labelWidth - label.count + 2) + body
        }
        .joined(separator: "\n")
    }

    /// Words of `text` in lines of at most ``width`` columns, every line indented by `indent`, and
    /// lines after the first by `hangingIndent` more.
    static func wrap(_ text: String, indent: Int = 0, hangingIndent: Int = 0) -> String {
        var margin = String(repeating: " ", count: indent)
        var lines: [String] = []
        var line = margin

        for word in text.split(separator: " ") {
            if line.count > margin.count, line.count + 1 + word.count > width {
                lines.append(line)
                margin = String(repeating: " ", count: indent + hangingIndent)
                line = margin
            }
            line += (line.count > margin.count ? " " : "") + word
        }
        lines.append(line)
        return lines.joined(separator: "\n")
    }
}
