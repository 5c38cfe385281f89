/// One way of finding a message's identity. Strategies are tried in order; the first that
/// yields a key wins.
///
/// Prefer the message ID the producer chose (``header(_:)``, ``cloudEvents``): it catches both
/// redelivery and duplicate produces. ``coordinates`` catches redelivery only, since a message
/// produced twice has two offsets; the runtime falls back to it when no other strategy yields.
///
/// Each strategy prefixes its keys with its kind (`id:`, `ce:`, `key:`, `hash:`, `at:`, or the
/// custom name), so values from different strategies never collide.
public struct KeyStrategy: Sendable, CustomStringConvertible {
    /// A short name for logs and metrics, such as `header:idempotency-key`.
    public let description: String
    private let derive: @Sendable (KafkaMessage) -> String?

    /// A strategy from a closure; `name` prefixes the keys it yields.
    public init(name: String, _ derive: @escaping @Sendable (KafkaMessage) -> String?) {
        self.description = name
        self.derive = { message in derive(message).map { "\(name):\($0)" } }
    }

    private init(description: String, prefixed derive: @escaping @Sendable (KafkaMessage) -> String?) {
        self.description = description
        self.derive = derive
    }

    /// The key for `message`, or `nil` when this strategy does not apply to it.
    public func key(for message: KafkaMessage) -> String? {
        derive(message)
    }

    /// The text value of a header, such as `idempotency-key` or `message-id`. An absent or empty
    /// header yields nothing. Every header strategy shares the `id:` prefix: they all name the
    /// producer's message ID.
    public static func header(_ name: String) -> KeyStrategy {
        KeyStrategy(description: "header:\(name)") { message in
            guard let value = message.header(name)?.text, !value.isEmpty else { return nil }
            return "id:" + value
        }
    }

    /// CloudEvents binary mode: the `ce_source` and `ce_id` headers together, which the
    /// specification defines as unique per event.
    public static let cloudEvents = KeyStrategy(description: "cloudevents") { message in
        guard let source = message.header("ce_source")?.text, let id = message.header("ce_id")?.text,
            !source.isEmpty, !id.isEmpty
        else { return nil }
        return "ce:\(source)/\(id)"
    }

    /// The record key, when it is present and not empty. Suits topics where each record key is
    /// an entity's version or a command's ID; not topics keyed by entity where one key has many
    /// messages.
    public static let recordKey = KeyStrategy(description: "record-key") { message in
        guard let key = message.key, !key.isEmpty else { return nil }
        return "key:" + (String(validating: key, as: UTF8.self) ?? key.hexString)
    }

    /// A hash of the payload: two messages with the same bytes are the same message.
    /// Tombstones yield nothing.
    public static let payloadHash = KeyStrategy(description: "payload-hash") { message in
        guard let value = message.value else { return nil }
        return "hash:\(MessageFingerprint(payload: value))"
    }

    /// `topic/partition/offset`: always yields. Catches redelivery, not duplicate produces.
    public static let coordinates = KeyStrategy(description: "coordinates") { message in
        "at:\(message.topic)/\(message.partition)/\(message.offset)"
    }

    /// A strategy written by the user; `name` prefixes its keys.
    public static func custom(_ name: String, _ derive: @escaping @Sendable (KafkaMessage) -> String?) -> KeyStrategy {
        KeyStrategy(name: name, derive)
    }
}

/// Derives namespaced idempotency keys and payload fingerprints.
///
/// ```swift
/// let keys = KeyDerivation([.header("idempotency-key"), .cloudEvents], namespace: "payments")
/// ```
public struct KeyDerivation: Sendable {
    /// The strategies, tried in order; ``KeyStrategy/coordinates`` is tried last when absent.
    public var strategies: [KeyStrategy]
    /// Prefixes every key, so two groups each process a message once. `nil` means the group id.
    public var namespace: String?

    /// Creates a derivation; the default reads the `idempotency-key` header, then `message-id`,
    /// then CloudEvents headers.
    public init(
        _ strategies: [KeyStrategy] = [.header("idempotency-key"), .header("message-id"), .cloudEvents],
        namespace: String? = nil
    ) {
        self.strategies = strategies
        self.namespace = namespace
    }

    /// The key of `message` in `namespace`, and whether it came from the coordinates fallback.
    public func key(for message: KafkaMessage, namespace: String) -> (key: String, isFallback: Bool) {
        for strategy in strategies {
            if let key = strategy.key(for: message) {
                return (Self.join(namespace, key), false)
            }
        }
        return (Self.join(namespace, KeyStrategy.coordinates.key(for: message)!), true)
    }

    /// `namespace/key`, built in one allocation.
    private static func join(_ namespace: String, _ key: String) -> String {
        var joined = ""
        joined.reserveCapacity(namespace.utf8.count + 1 + key.utf8.count)
        joined += namespace
        joined += "/"
        joined += key
        return joined
    }
}

extension Array where Element == UInt8 {
    /// Lowercase hexadecimal digits.
    var hexString: String {
        let digits = Array("0123456789abcdef".utf8)
        var text = [UInt8]()
        text.reserveCapacity(count * 2)
        for byte in self {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: text, as: UTF8.self)
    }
}
