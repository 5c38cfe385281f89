import CRDKafka

/// Builds librdkafka configuration objects and reports a rejected property by name.
enum RDKafkaConfiguration {
    /// Makes an `rd_kafka_conf_t` with every property set; the caller owns it.
    ///
    /// - Throws: ``KafkaError/Code/configuration`` naming the first property librdkafka rejects.
    static func make(_ properties: [(String, String)]) throws -> OpaquePointer {
        let configuration = rd_kafka_conf_new()!
        for (name, value) in properties {
            do {
                try set(name, value, on: configuration)
            } catch {
                rd_kafka_conf_destroy(configuration)
                throw error
            }
        }
        return configuration
    }

    static func set(_ name: String, _ value: String, on configuration: OpaquePointer) throws {
        var message = [CChar](repeating: 0, count: 512)
        let result = rd_kafka_conf_set(configuration, name, value, &message, message.count)
        guard result != RD_KAFKA_CONF_OK else { return }

        let reason = string(from: message)
        let what = result == RD_KAFKA_CONF_UNKNOWN ? "unknown property" : "invalid value"
        throw KafkaError(
            code: .configuration,
            message:
                "\(what) '\(name)'=\"\(value)\": \(reason); "
                + "check the name and value against librdkafka's CONFIGURATION.md"
        )
    }

    /// Reads librdkafka's error buffer after a failed call.
    static func string(from buffer: [CChar]) -> String {
        String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
