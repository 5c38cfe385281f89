import CRDKafka

/// An error from the Kafka layer: what failed, with which input, and what to do about it.
///
/// Errors carry a ``Code`` rather than being a large enum, so new kinds of failure can be
/// added without breaking users' `switch` statements. Check ``isRetriable`` to decide whether
/// the same call may succeed later, and ``isFatal`` to learn that the client must be recreated.
public struct KafkaError: Error, Sendable, CustomStringConvertible {
    /// The kind of failure.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        fileprivate enum Backing: Hashable, Sendable {
            case configuration
            case broker
            case timedOut
            case closed
            case state
            case invalidArgument
        }

        fileprivate let backing: Backing

        /// A configuration property has an unknown name or an invalid value.
        public static let configuration = Code(backing: .configuration)
        /// librdkafka or the broker reported an error; ``KafkaError/brokerCode`` says which.
        public static let broker = Code(backing: .broker)
        /// The operation did not finish within its time limit.
        public static let timedOut = Code(backing: .timedOut)
        /// The client was already closed.
        public static let closed = Code(backing: .closed)
        /// The call is not valid in the client's current state.
        public static let state = Code(backing: .state)
        /// An argument was out of range or malformed.
        public static let invalidArgument = Code(backing: .invalidArgument)

        /// The code's name, as spelled in Swift: `configuration`, `timedOut`, and so on.
        public var description: String {
            switch backing {
            case .configuration: "configuration"
            case .broker: "broker"
            case .timedOut: "timedOut"
            case .closed: "closed"
            case .state: "state"
            case .invalidArgument: "invalidArgument"
            }
        }
    }

    /// The kind of failure.
    public let code: Code
    /// librdkafka's error code when librdkafka reported the failure, such as `-185` for `_TIMED_OUT`.
    public let brokerCode: Int32?
    /// A one-line explanation that names the input and says what to do.
    public let message: String
    /// Whether librdkafka considers the error retriable: the same call may succeed later.
    public let isRetriable: Bool
    /// Whether the client is unusable after this error and must be recreated.
    public let isFatal: Bool
    /// The source location that raised the error.
    public let location: SourceLocation

    /// A source location, for errors.
    public struct SourceLocation: Sendable, CustomStringConvertible {
        /// The file, as `#fileID` spells it: `Module/File.swift`.
        public let file: String
        /// The line in that file, starting at 1.
        public let line: UInt

        /// `file:line`, such as `KafkaOnce/KafkaConsumer.swift:120`.
        public var description: String { "\(file):\(line)" }
    }

    init(
        code: Code,
        message: String,
        brokerCode: Int32? = nil,
        isRetriable: Bool = false,
        isFatal: Bool = false,
        file: String = #fileID,
        line: UInt = #line
    ) {
        self.code = code
        self.message = message
        self.brokerCode = brokerCode
        self.isRetriable = isRetriable
        self.isFatal = isFatal
        self.location = SourceLocation(file: file, line: line)
    }

    /// The ``message`` alone.
    public var description: String { message }

    /// The symbolic name of ``brokerCode`` as librdkafka spells it (for example `REBALANCE_IN_PROGRESS`).
    public var brokerCodeName: String? {
        brokerCode.map { String(cString: rd_kafka_err2name(rd_kafka_resp_err_t($0))) }
    }
}

extension KafkaError {
    /// Builds an error from a librdkafka response code, with `context` saying what was being done.
    static func rdKafka(
        _ err: rd_kafka_resp_err_t,
        _ context: String,
        file: String = #fileID,
        line: UInt = #line
    ) -> KafkaError {
        let name = String(cString: rd_kafka_err2name(err))
        let text = String(cString: rd_kafka_err2str(err))
        let code: Code = err == RD_KAFKA_RESP_ERR__TIMED_OUT ? .timedOut : .broker
        return KafkaError(
            code: code,
            message: "\(context): \(text) (\(name))",
            brokerCode: err.rawValue,
            isRetriable: isRetriable(err),
            isFatal: err == RD_KAFKA_RESP_ERR__FATAL,
            file: file,
            line: line
        )
    }

    /// Builds an error from an `rd_kafka_error_t`, destroying it.
    static func consuming(
        _ error: OpaquePointer,
        _ context: String,
        file: String = #fileID,
        line: UInt = #line
    ) -> KafkaError {
        defer { rd_kafka_error_destroy(error) }
        let err = rd_kafka_error_code(error)
        let name = String(cString: rd_kafka_error_name(error))
        let text = String(cString: rd_kafka_error_string(error))
        return KafkaError(
            code: err == RD_KAFKA_RESP_ERR__TIMED_OUT ? .timedOut : .broker,
            message: "\(context): \(text) (\(name))",
            brokerCode: err.rawValue,
            isRetriable: rd_kafka_error_is_retriable(error) != 0 || isRetriable(err),
            isFatal: rd_kafka_error_is_fatal(error) != 0,
            file: file,
            line: line
        )
    }

    /// Errors that say "not now" rather than "never": the group is moving, the coordinator is
    /// elsewhere, or the connection dropped.
    private static func isRetriable(_ err: rd_kafka_resp_err_t) -> Bool {
        switch err {
        case RD_KAFKA_RESP_ERR__TRANSPORT, RD_KAFKA_RESP_ERR__TIMED_OUT, RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN,
            RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT, RD_KAFKA_RESP_ERR_NOT_COORDINATOR,
            RD_KAFKA_RESP_ERR_COORDINATOR_NOT_AVAILABLE, RD_KAFKA_RESP_ERR_COORDINATOR_LOAD_IN_PROGRESS,
            RD_KAFKA_RESP_ERR_REBALANCE_IN_PROGRESS, RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION,
            RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE, RD_KAFKA_RESP_ERR_NETWORK_EXCEPTION,
            RD_KAFKA_RESP_ERR__WAIT_COORD:
            return true
        default:
            return false
        }
    }
}
