import KafkaOnce

/// A failure reported by libpq or by the server, before it becomes the error a caller sees.
struct PostgresFailure: Error {
    /// The server's SQLSTATE, such as `23505`; `nil` when libpq failed on its own (a lost connection).
    var sqlState: String?
    /// libpq's or the server's message, on one line.
    var message: String
    /// Whether the connection is gone; the server then rolls back any open transaction.
    var isConnectionLost: Bool
    /// The position of the failed statement in a pipeline.
    var statementIndex: Int?

    init(sqlState: String? = nil, message: String, isConnectionLost: Bool = false, statementIndex: Int? = nil) {
        self.sqlState = sqlState
        self.message = message.trimmedLine
        self.isConnectionLost = isConnectionLost || Self.meansConnectionLost(sqlState)
        self.statementIndex = statementIndex
    }

    /// Whether running the same statements again on the same connection may succeed: deadlocks,
    /// serialization failures, lock timeouts, cancelled statements and a full connection table.
    var isTransient: Bool {
        guard let sqlState, !isConnectionLost else { return false }
        return sqlState.hasPrefix("40") || ["55P03", "57014", "53300", "57P03"].contains(sqlState)
    }

    /// The error a caller sees for `action` (a verb phrase such as "record 3 outcomes") on the store
    /// at `location`.
    func storeError(_ action: String, at location: PostgresLocation) -> DeduplicationStoreError {
        let (code, advice) = classification
        let state = sqlState.map { " (SQLSTATE \($0))" } ?? ""
        return DeduplicationStoreError(
            code,
            "cannot \(action) in the PostgreSQL store at '\(location.redacted)': \(message)\(state); \(advice)"
        )
    }

    private var classification: (DeduplicationStoreError.Code, String) {
        if isConnectionLost {
            return (.unavailable, "retry once the server is reachable")
        }
        if isTransient {
            return (.unavailable, "the server could not run it now; retry the call")
        }
        switch sqlState ?? "" {
        case "53100":
            return (.unusable, "the server's disk is full; free space, then restart the consumer")
        case "25006":
            return (.unusable, "the server is read-only (a standby?); point the URL at the primary")
        case "42501":
            return (.unusable, "grant the URL's user the rights to create and write the kafka_once_ tables")
        case let state where state.hasPrefix("22"):
            return (.invalidArgument, "the server refused a value; check the keys and outcomes passed")
        default:
            return (.unusable, "check the server log and the kafka_once_ tables")
        }
    }

    private static func meansConnectionLost(_ sqlState: String?) -> Bool {
        guard let sqlState else { return false }
        // Class 08 is connection exceptions; 57P01 and 57P02 are the backend being terminated.
        return sqlState.hasPrefix("08") || sqlState == "57P01" || sqlState == "57P02"
    }
}
