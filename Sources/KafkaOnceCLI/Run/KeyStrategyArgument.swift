import KafkaOnce

/// A `--key` value: `header:NAME`, `cloudevents`, `record-key`, `payload-hash` or `coordinates`.
struct KeyStrategyArgument: ArgumentValue {
    let strategy: KeyStrategy

    init?(argument: String) {
        switch argument {
        case "cloudevents": strategy = .cloudEvents
        case "record-key": strategy = .recordKey
        case "payload-hash": strategy = .payloadHash
        case "coordinates": strategy = .coordinates
        default:
            guard argument.hasPrefix("header:"), argument.count > "header:".count else { return nil }
            strategy = .header(String(argument.dropFirst("header:".count)))
        }
    }

    static var expectation: String { "header:NAME, cloudevents, record-key, payload-hash or coordinates" }
}
