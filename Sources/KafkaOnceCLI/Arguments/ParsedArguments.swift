/// The options and positionals of one invocation, read by name.
///
/// Options are named without their dashes. Typed readers turn a malformed value into a
/// ``UsageError`` that names the option and what it expects:
///
/// ```swift
/// let group = try arguments.required("group", as: String.self)
/// let topics = try arguments.values("topic", as: String.self)
/// let retries = try arguments.value("retries", default: 3, atLeast: 0)
/// let modes = try arguments.list("modes", as: String.self)  // --modes raw,memory
/// if arguments.isJSON { … }
/// ```
struct ParsedArguments: Sendable {
    /// The command as typed, such as `kafka-once store stats`, for messages.
    var commandPath: String
    private var valuesByName: [String: [String]] = [:]
    private var flags: Set<String> = []
    private var positionalsByName: [String: String] = [:]
    private let declaredNames: Set<String>

    init(commandPath: String, options: [Option], positionals: [Positional]) {
        self.commandPath = commandPath
        self.declaredNames = Set(options.map(\.name) + positionals.map(\.name))
    }

    // MARK: - Recording, for the parser

    mutating func append(_ value: String, for option: Option) {
        valuesByName[option.name, default: []].append(value)
    }

    mutating func set(flag option: Option) {
        flags.insert(option.name)
    }

    mutating func set(_ value: String, for positional: Positional) {
        positionalsByName[positional.name] = value
    }

    // MARK: - Presence

    /// Whether `--json` was given.
    var isJSON: Bool { flags.contains(Option.json.name) }

    /// Whether a flag was given.
    func flag(_ name: String) -> Bool {
        checkDeclared(name)
        return flags.contains(name)
    }

    /// Whether an option was given at all, as a flag or with a value.
    func contains(_ name: String) -> Bool {
        checkDeclared(name)
        return flags.contains(name) || valuesByName[name] != nil
    }

    /// The one option of `names` that was given.
    ///
    /// - Throws: ``UsageError`` when none or more than one was given.
    func exactlyOne(of names: [String]) throws(UsageError) -> String {
        let given = names.filter(contains)
        let spelled = Self.joined(names.map { "--" + $0 }, conjunction: "or")
        guard given.count == 1 else {
            throw UsageError(given.isEmpty ? "missing \(spelled)" : "give only one of \(spelled)")
        }
        return given[0]
    }

    // MARK: - Values

    /// The value of an option as typed, or `nil` when it is absent.
    func string(_ name: String) -> String? {
        checkDeclared(name)
        return valuesByName[name]?.last
    }

    /// The value of an option, parsed, or `nil` when it is absent.
    func value<Value: ArgumentValue>(_ name: String, as type: Value.Type = Value.self) throws(UsageError) -> Value? {
        guard let text = string(name) else { return nil }
        return try Self.parse(text, for: name, as: type)
    }

    /// The value of an option, parsed, or `defaultValue` when it is absent.
    func value<Value: ArgumentValue>(_ name: String, default defaultValue: Value) throws(UsageError) -> Value {
        try value(name, as: Value.self) ?? defaultValue
    }

    /// The value of an option, parsed and at least `minimum`, or `defaultValue` when it is absent.
    func value<Value: ArgumentValue & Comparable>(
        _ name: String,
        default defaultValue: Value,
        atLeast minimum: Value
    ) throws(UsageError) -> Value {
        let result = try value(name, default: defaultValue)
        guard result >= minimum else {
            throw UsageError.invalidValue(string(name) ?? "\(result)", for: name, expected: "at least \(minimum)")
        }
        return result
    }

    /// The value of an option the command cannot run without.
    ///
    /// The parser already rejects a missing option declared `required`; this reads it, or rejects
    /// an option that is required only in some cases.
    func required<Value: ArgumentValue>(_ name: String, as type: Value.Type = Value.self) throws(UsageError) -> Value {
        guard let result = try value(name, as: type) else { throw UsageError("missing --\(name)") }
        return result
    }

    /// Every value of a repeatable option, parsed, in the order given.
    func values<Value: ArgumentValue>(_ name: String, as type: Value.Type = Value.self) throws(UsageError) -> [Value] {
        checkDeclared(name)
        var result: [Value] = []
        for text in valuesByName[name] ?? [] {
            result.append(try Self.parse(text, for: name, as: type))
        }
        return result
    }

    /// The comma-separated values of an option, over every time it was given, parsed:
    /// `--modes raw,memory --modes sqlite` gives three values. Empty items are rejected.
    func list<Value: ArgumentValue>(_ name: String, as type: Value.Type = Value.self) throws(UsageError) -> [Value] {
        checkDeclared(name)
        var result: [Value] = []
        for text in valuesByName[name] ?? [] {
            for item in text.split(separator: ",", omittingEmptySubsequences: false) {
                let item = item.trimmingWhitespace()
                guard !item.isEmpty else {
                    throw UsageError.invalidValue(
                        text,
                        for: name,
                        expected: "a comma-separated list without empty items"
                    )
                }
                result.append(try Self.parse(item, for: name, as: type))
            }
        }
        return result
    }

    // MARK: - Positionals

    /// A positional argument as typed, or `nil` when it is absent.
    func positional(_ name: String) -> String? {
        checkDeclared(name)
        return positionalsByName[name]
    }

    // MARK: - Helpers

    private static func parse<Value: ArgumentValue>(
        _ text: String,
        for name: String,
        as type: Value.Type
    ) throws(UsageError) -> Value {
        guard let value = Value(argument: text) else {
            throw UsageError.invalidValue(text, for: name, expected: Value.expectation)
        }
        return value
    }

    /// `a`, `a or b`, `a, b or c`.
    static func joined(_ items: [String], conjunction: String) -> String {
        guard items.count > 1 else { return items.first ?? "" }
        return items.dropLast().joined(separator: ", ") + " \(conjunction) " + items.last!
    }

    private func checkDeclared(_ name: String) {
        assert(declaredNames.contains(name), "'\(name)' is not declared by \(commandPath)")
    }
}

extension Substring {
    fileprivate func trimmingWhitespace() -> String {
        String(drop(while: \.isWhitespace).reversed().drop(while: \.isWhitespace).reversed())
    }
}

extension ParsedArguments {
    /// The librdkafka consumer properties given with the repeatable `--property NAME=VALUE`.
    ///
    /// - Throws: ``UsageError`` naming the value that is not `NAME=VALUE`.
    func consumerProperties() throws(UsageError) -> [String: String] {
        var properties: [String: String] = [:]
        for property in try values("property", as: String.self) {
            guard let equals = property.firstIndex(of: "="), equals != property.startIndex else {
                throw UsageError("invalid value '\(property)' for --property; expected NAME=VALUE")
            }
            properties[String(property[..<equals])] = String(property[property.index(after: equals)...])
        }
        return properties
    }
}
