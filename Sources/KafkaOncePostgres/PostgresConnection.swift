import CLibPQ
import Foundation

/// One libpq connection. Not thread-safe: the store uses it only from its worker thread.
final class PostgresConnection {
    private let handle: OpaquePointer
    /// The names of the statements prepared on this connection, by SQL text.
    private var preparedNames: [String: String] = [:]
    /// Set when a pipeline could not be closed, so results and requests no longer line up.
    private var isDesynchronized = false

    /// Connects, blocking the calling thread for at most the connect timeout.
    ///
    /// The store's defaults come first so that the URL can override them: a 5 s connect timeout,
    /// TCP keepalives that notice a vanished server within about a minute, and the application
    /// name `kafka-once`. The client encoding is always UTF-8, as Swift strings are.
    init(_ location: PostgresLocation) throws(PostgresFailure) {
        let parameters: [(String, String)] = [
            ("connect_timeout", "5"),
            ("keepalives_idle", "30"),
            ("keepalives_interval", "10"),
            ("keepalives_count", "3"),
            ("fallback_application_name", "kafka-once"),
            ("dbname", location.connectionString),
            ("client_encoding", "UTF8"),
        ]
        let handle = Self.connect(parameters)
        guard let handle, PQstatus(handle) == CONNECTION_OK else {
            let message = handle.map { String(cString: PQerrorMessage($0)) } ?? "libpq is out of memory"
            PQfinish(handle)
            throw PostgresFailure(message: message, isConnectionLost: true)
        }
        self.handle = handle
        // The store decodes `bytea` results in the hex form, whatever the server's default.
        _ = try execute(PostgresStatement("SET bytea_output = 'hex'"))
    }

    deinit {
        PQfinish(handle)
    }

    /// Whether the connection is unusable: libpq lost it, or a pipeline ended with results unread.
    var isBroken: Bool {
        isDesynchronized || PQstatus(handle) != CONNECTION_OK
    }

    /// Whether a transaction is open, and whether a failed statement aborted it.
    var transactionStatus: PGTransactionStatusType {
        PQtransactionStatus(handle)
    }

    /// Runs one statement and waits for its result.
    func execute(_ statement: PostgresStatement) throws(PostgresFailure) -> PostgresResult {
        let name = preparedNames[statement.sql]
        // Preparing and running a statement the first time takes one round trip too.
        if statement.isPrepared, name == nil { return try runPipeline([statement])[0] }
        let result = statement.withLibPQParameters { count, types, values, lengths, formats in
            if let name {
                PQexecPrepared(handle, name, count, values, lengths, formats, 0)
            } else {
                PQexecParams(handle, statement.sql, count, types, values, lengths, formats, 0)
            }
        }
        guard let result else { throw failure(statementIndex: 0) }
        defer { PQclear(result) }
        let status = PQresultStatus(result)
        guard status == PGRES_TUPLES_OK || status == PGRES_COMMAND_OK else {
            throw failure(from: result, statementIndex: 0)
        }
        return PostgresResult(copying: result)
    }

    /// Runs statements in one round trip (libpq's pipeline mode) and returns their results in order.
    ///
    /// The statements run one after another on the server; after a failure the rest are skipped and
    /// the first failure is thrown. They are not a transaction unless they begin one. A statement
    /// marked prepared is prepared in the same round trip the first time the connection runs it.
    func pipeline(_ statements: [PostgresStatement]) throws(PostgresFailure) -> [PostgresResult] {
        switch statements.count {
        case 0: []
        case 1: [try execute(statements[0])]
        default: try runPipeline(statements)
        }
    }

    private func runPipeline(_ statements: [PostgresStatement]) throws(PostgresFailure) -> [PostgresResult] {
        guard PQenterPipelineMode(handle) == 1 else { throw failure(statementIndex: nil) }
        do throws(PostgresFailure) {
            let results = try sendAndCollect(statements)
            guard PQexitPipelineMode(handle) == 1 else {
                isDesynchronized = true
                throw failure(statementIndex: nil)
            }
            return results
        } catch {
            var failure = error
            if PQpipelineStatus(handle) != PQ_PIPELINE_OFF, PQexitPipelineMode(handle) != 1 {
                isDesynchronized = true
                failure.isConnectionLost = true
            }
            throw failure
        }
    }

    private func sendAndCollect(_ statements: [PostgresStatement]) throws(PostgresFailure) -> [PostgresResult] {
        var expected: [PipelineStep] = []
        var preparing: [String: String] = [:]
        for (index, statement) in statements.enumerated() {
            let sent = statement.withLibPQParameters { count, types, values, lengths, formats in
                guard statement.isPrepared else {
                    expected.append(.statement(index))
                    return PQsendQueryParams(handle, statement.sql, count, types, values, lengths, formats, 0)
                }
                var name = preparedNames[statement.sql] ?? preparing[statement.sql]
                if name == nil {
                    let fresh = "kafka_once_\(preparedNames.count + preparing.count + 1)"
                    guard PQsendPrepare(handle, fresh, statement.sql, count, types) == 1 else { return 0 }
                    preparing[statement.sql] = fresh
                    expected.append(.prepare(sql: statement.sql, name: fresh))
                    name = fresh
                }
                expected.append(.statement(index))
                return PQsendQueryPrepared(handle, name, count, values, lengths, formats, 0)
            }
            guard sent == 1 else { throw failure(statementIndex: nil) }
        }
        guard PQpipelineSync(handle) == 1 else { throw failure(statementIndex: nil) }
        return try collect(expected)
    }

    /// What a pipeline sent, in order: each yields one result.
    private enum PipelineStep {
        case prepare(sql: String, name: String)
        case statement(Int)
    }

    /// Reads the results of the pipelined steps and the synchronisation point after them.
    private func collect(_ steps: [PipelineStep]) throws(PostgresFailure) -> [PostgresResult] {
        var results: [PostgresResult] = []
        var firstFailure: PostgresFailure?
        for step in steps {
            let index: Int? =
                switch step {
                case .statement(let index): index
                case .prepare: nil
                }
            guard let result = PQgetResult(handle) else { throw failure(statementIndex: index) }
            let status = PQresultStatus(result)
            if status == PGRES_TUPLES_OK || status == PGRES_COMMAND_OK {
                switch step {
                case .statement: results.append(PostgresResult(copying: result))
                case .prepare(let sql, let name): preparedNames[sql] = name
                }
            } else if status != PGRES_PIPELINE_ABORTED, firstFailure == nil {
                firstFailure = failure(from: result, statementIndex: index)
            }
            PQclear(result)
            if isBroken { throw firstFailure ?? failure(statementIndex: index) }
            // Each step's results end with a null result.
            while let extra = PQgetResult(handle) { PQclear(extra) }
        }
        guard let sync = PQgetResult(handle) else { throw failure(statementIndex: nil) }
        let status = PQresultStatus(sync)
        if status != PGRES_PIPELINE_SYNC, firstFailure == nil {
            firstFailure = failure(from: sync, statementIndex: nil)
        }
        PQclear(sync)
        if let firstFailure { throw firstFailure }
        return results
    }

    private func failure(from result: OpaquePointer, statementIndex: Int?) -> PostgresFailure {
        let sqlState = PQresultErrorField(result, Int32(UInt8(ascii: "C"))).map { String(cString: $0) }
        var message = String(cString: PQresultErrorMessage(result))
        if message.isEmpty { message = String(cString: PQerrorMessage(handle)) }
        if let primary = PQresultErrorField(result, Int32(UInt8(ascii: "M"))) {
            message = String(cString: primary)
        }
        return PostgresFailure(
            sqlState: sqlState,
            message: message,
            isConnectionLost: isBroken,
            statementIndex: statementIndex
        )
    }

    private func failure(statementIndex: Int?) -> PostgresFailure {
        let message = String(cString: PQerrorMessage(handle))
        return PostgresFailure(
            message: message.isEmpty ? "libpq reported a failure without a message" : message,
            isConnectionLost: isBroken || message.isEmpty,
            statementIndex: statementIndex
        )
    }

    private static func connect(_ parameters: [(String, String)]) -> OpaquePointer? {
        let keywords = parameters.map { strdup($0.0) }
        let values = parameters.map { strdup($0.1) }
        defer {
            keywords.forEach { free($0) }
            values.forEach { free($0) }
        }
        let keywordPointers = keywords.map { UnsafePointer($0) } + [nil]
        let valuePointers = values.map { UnsafePointer($0) } + [nil]
        return PQconnectdbParams(keywordPointers, valuePointers, 1)
    }
}
