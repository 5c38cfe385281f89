/// A message with its idempotency key and fingerprint, ready to be claimed.
struct PreparedMessage: Sendable {
    let message: KafkaMessage
    let key: String
    let fingerprint: MessageFingerprint

    var request: ClaimRequest {
        ClaimRequest(key: key, fingerprint: fingerprint, origin: message.coordinates)
    }

    /// Prepares a batch, cut into runs in which no key repeats: a key that appears twice in one
    /// batch must see the first occurrence's outcome before it is claimed again.
    static func runs(
        of messages: [KafkaMessage],
        keys: KeyDerivation,
        namespace: String,
        metrics: EffectivelyOnceMetrics
    ) -> [[PreparedMessage]] {
        var runs: [[PreparedMessage]] = []
        var current: [PreparedMessage] = []
        var seen = Set<String>(minimumCapacity: messages.count)
        current.reserveCapacity(messages.count)

        for message in messages {
            let (key, isFallback) = keys.key(for: message, namespace: namespace)
            if isFallback { metrics.coordinateFallbacks.add(1) }
            if !seen.insert(key).inserted {
                runs.append(current)
                current = []
                seen.removeAll(keepingCapacity: true)
                seen.insert(key)
            }
            current.append(
                PreparedMessage(message: message, key: key, fingerprint: MessageFingerprint(payload: message.value))
            )
        }
        if !current.isEmpty { runs.append(current) }
        return runs
    }
}
