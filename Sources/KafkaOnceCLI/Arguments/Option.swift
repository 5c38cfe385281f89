/// A named command-line option a command accepts: `--name`, `--name VALUE`, or `--name VALUE`
/// given several times.
///
/// ```swift
/// var options: [Option] {
///     [
///         .value("group", "GROUP", required: true, help: "the consumer group"),
///         .repeatable("topic", "TOPIC", required: true, help: "a topic to consume; repeat for more"),
///         .flag("dry-run", help: "report what would happen without doing it"),
///         .json,
///     ]
/// }
/// ```
struct Option: Sendable, Hashable {
    /// How an option takes values.
    enum Kind: Sendable, Hashable {
        /// Present or absent; takes no value.
        case flag
        /// Takes one value; giving it twice is a usage error.
        case value
        /// Takes one value each time it is given; every value is kept, in order.
        case repeatable
    }

    /// The name without its leading dashes, such as `group`.
    var name: String
    var kind: Kind
    /// What the value stands for in help text, such as `URL`; empty for flags.
    var valueName: String
    /// Whether the command cannot run without this option.
    var isRequired: Bool
    /// The value used when the option is absent, as shown in help text.
    var defaultDescription: String?
    /// One sentence, lowercase, without a final period.
    var help: String

    /// The option as typed: `--group`.
    var spelling: String { "--" + name }

    /// A flag such as `--dry-run`.
    static func flag(_ name: String, help: String) -> Option {
        Option(name: name, kind: .flag, valueName: "", isRequired: false, defaultDescription: nil, help: help)
    }

    /// An option that takes one value, such as `--group GROUP`.
    static func value(
        _ name: String,
        _ valueName: String,
        required: Bool = false,
        default defaultDescription: String? = nil,
        help: String
    ) -> Option {
        Option(
            name: name,
            kind: .value,
            valueName: valueName,
            isRequired: required,
            defaultDescription: defaultDescription,
            help: help
        )
    }

    /// An option that may be given several times, such as `--topic A --topic B`.
    static func repeatable(
        _ name: String,
        _ valueName: String,
        required: Bool = false,
        default defaultDescription: String? = nil,
        help: String
    ) -> Option {
        Option(
            name: name,
            kind: .repeatable,
            valueName: valueName,
            isRequired: required,
            defaultDescription: defaultDescription,
            help: help
        )
    }

    /// `--json`: one JSON object on standard output, logs on standard error.
    static let json = Option.flag("json", help: "print one JSON object on standard output; logs go to standard error")
}

/// A positional argument, such as the `KEY` of `store show KEY`.
struct Positional: Sendable, Hashable {
    /// The name shown in help text and used to read the value, such as `KEY`.
    var name: String
    var isRequired: Bool
    /// One sentence, lowercase, without a final period.
    var help: String

    init(_ name: String, required: Bool = true, help: String) {
        self.name = name
        self.isRequired = required
        self.help = help
    }
}
