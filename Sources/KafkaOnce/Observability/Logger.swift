import struct Foundation.Date

/// How important a log record is, from the most verbose to the most severe.
///
/// The same seven levels as swift-log, so a bridge maps them one to one.
public enum KafkaOnceLogLevel: Int, Sendable, Comparable, CaseIterable, CustomStringConvertible {
    /// The most verbose level: detail only worth reading while tracing a problem step by step.
    case trace
    /// Detail for debugging; the library logs its lifecycle steps (subscribing, rebalances,
    /// commits, shutdown) at this level.
    case debug
    /// Events of normal operation. Failures that callers also receive as errors are logged no
    /// higher than this.
    case info
    /// Normal but significant events.
    case notice
    /// Something went wrong and was handled, such as a message sent to the dead-letter topic.
    case warning
    /// A failure that needs attention.
    case error
    /// The most severe level: a failure the program cannot go on from.
    case critical

    /// Whether `lhs` is less severe than `rhs`, in the order the cases are declared.
    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }

    /// The level's name in lowercase, as swift-log spells it: `trace`, `debug`, and so on.
    public var description: String {
        switch self {
        case .trace: "trace"
        case .debug: "debug"
        case .info: "info"
        case .notice: "notice"
        case .warning: "warning"
        case .error: "error"
        case .critical: "critical"
        }
    }
}

/// Where log records go. Implement it to bridge to swift-log or any other logging system.
///
/// ```swift
/// import Logging
///
/// struct SwiftLogBridge: KafkaOnceLogHandler {
///     let logger: Logging.Logger
///     func log(_ record: KafkaOnceLogRecord) {
///         logger.log(
///             level: Logging.Logger.Level(rawValue: "\(record.level)") ?? .info,
///             "\(record.message)",
///             metadata: record.metadata.mapValues { .string($0) }
///         )
///     }
/// }
/// ```
public protocol KafkaOnceLogHandler: Sendable {
    /// Handles one record. Called on whichever thread logged it, so it must be thread-safe.
    func log(_ record: KafkaOnceLogRecord)
}

/// One log record.
public struct KafkaOnceLogRecord: Sendable {
    /// How important the record is.
    public var level: KafkaOnceLogLevel
    /// The label of the logger that made the record, such as `kafka-once.runtime`.
    public var label: String
    /// A short, fixed sentence; the variable parts are in ``metadata``.
    public var message: String
    /// Structured context, with keys such as `kafka.topic` and `kafka.partition`.
    public var metadata: [String: String]
    /// The file that logged, as `#fileID` spells it: `Module/File.swift`.
    public var file: String
    /// The line in that file that logged.
    public var line: UInt
}

/// A logger shaped like swift-log's: a label, a level, metadata, and a handler.
///
/// Libraries log lifecycle steps at `debug`; failures that callers also receive as errors go no
/// higher than `info`. Payloads are never logged.
public struct KafkaOnceLogger: Sendable {
    /// The component that logs, such as `kafka-once.runtime`.
    public var label: String
    /// Records below this level are dropped before they are built.
    public var logLevel: KafkaOnceLogLevel
    /// Metadata added to every record.
    public var metadata: [String: String] = [:]
    private let handler: (any KafkaOnceLogHandler)?

    /// Creates a logger that hands records at `logLevel` and above to `handler`.
    public init(label: String, logLevel: KafkaOnceLogLevel = .info, handler: any KafkaOnceLogHandler) {
        self.label = label
        self.logLevel = logLevel
        self.handler = handler
    }

    private init(label: String) {
        self.label = label
        self.logLevel = .critical
        self.handler = nil
    }

    /// A logger that drops everything.
    public static let disabled = KafkaOnceLogger(label: "disabled")

    /// A logger that writes one line per record to standard error.
    public static func standardError(label: String, logLevel: KafkaOnceLogLevel = .info) -> KafkaOnceLogger {
        KafkaOnceLogger(label: label, logLevel: logLevel, handler: StandardErrorLogHandler())
    }

    /// Logs a record when `level` is at or above ``logLevel``.
    public func log(
        _ level: KafkaOnceLogLevel,
        _ message: @autoclosure () -> String,
        metadata: @autoclosure () -> [String: String] = [:],
        file: String = #fileID,
        line: UInt = #line
    ) {
        guard let handler, level >= logLevel else { return }
        let merged = self.metadata.merging(metadata()) { _, new in new }
        handler.log(
            KafkaOnceLogRecord(
                level: level,
                label: label,
                message: message(),
                metadata: merged,
                file: file,
                line: line
            )
        )
    }

    /// Whether a record at `level` would be handled.
    public func isEnabled(_ level: KafkaOnceLogLevel) -> Bool {
        handler != nil && level >= logLevel
    }
}

/// Writes `timestamp level label: message key=value …` lines to standard error.
public struct StandardErrorLogHandler: KafkaOnceLogHandler {
    /// Creates a handler. Each record is written with one unbuffered write, so lines from
    /// different threads do not interleave.
    public init() {}

    public func log(_ record: KafkaOnceLogRecord) {
        let metadata = record.metadata.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
        let line = ([timestamp(), record.level.description, "\(record.label):", record.message] + metadata)
            .joined(separator: " ")
        FileHandleOutput.standardError.write(line + "\n")
    }

    private func timestamp() -> String {
        Date().formatted(.iso8601)
    }
}
