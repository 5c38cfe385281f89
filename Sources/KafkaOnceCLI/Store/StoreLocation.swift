import KafkaOnce
import KafkaOncePostgres
import KafkaOnceSQLite

/// Where a deduplication store lives, as typed after `--store`.
///
/// | form | store |
/// |---|---|
/// | `memory:` | a new, empty in-memory store that lives as long as the process |
/// | `sqlite:PATH` (also `sqlite://ABSOLUTE-PATH`) | a SQLite file, created when missing |
/// | `postgres://…` or `postgresql://…` | a PostgreSQL database, by libpq connection URL |
///
/// ```swift
/// let location = try arguments.required("store", as: StoreLocation.self)
/// let store = try await location.open()
/// ```
enum StoreLocation: ArgumentValue, Hashable, CustomStringConvertible {
    case memory
    case sqlite(path: String)
    case postgres(url: String)

    init?(argument: String) {
        if argument == "memory:" {
            self = .memory
        } else if argument.hasPrefix("sqlite:") {
            guard let path = Self.sqlitePath(argument.dropFirst("sqlite:".count)) else { return nil }
            self = .sqlite(path: path)
        } else if Self.isPostgresURL(argument) {
            self = .postgres(url: argument)
        } else {
            return nil
        }
    }

    static var expectation: String { "memory:, sqlite:PATH or postgres://USER@HOST:PORT/DATABASE" }

    /// Parses a location that does not come from an option, such as a default in a configuration.
    ///
    /// - Throws: ``UsageError`` naming `text` and listing the accepted forms.
    static func parse(_ text: String) throws(UsageError) -> StoreLocation {
        guard let location = StoreLocation(argument: text) else {
            throw UsageError("invalid store location '\(text)'; use \(expectation)")
        }
        return location
    }

    /// The location as typed, with any PostgreSQL password replaced by `***`, safe to print.
    var description: String {
        switch self {
        case .memory: "memory:"
        case .sqlite(let path): "sqlite:" + path
        case .postgres(let url): Self.redactingPassword(url)
        }
    }

    /// Opens the store. Close it with ``DeduplicationStore/close()`` when done.
    ///
    /// - Throws: The store's own error, which names the location and what to do, such as a
    ///   directory that does not exist or a server that refuses the connection; other errors
    ///   wrapped in a ``CommandFailure`` that names the location.
    func open() async throws -> any DeduplicationStore {
        do {
            switch self {
            case .memory:
                return InMemoryDeduplicationStore()
            case .sqlite(let path):
                return try SQLiteDeduplicationStore(path: path)
            case .postgres(let url):
                return try await PostgresDeduplicationStore(url: url)
            }
        } catch let error as DeduplicationStoreError {
            throw error
        } catch {
            throw CommandFailure("cannot open the store at \(self): \(error)")
        }
    }

    // MARK: - Parsing

    /// `PATH`, or `//ABSOLUTE-PATH` as in `sqlite:///var/lib/x.sqlite`; a leading `~/` is the home
    /// directory.
    private static func sqlitePath(_ rest: Substring) -> String? {
        var path = rest
        if path.hasPrefix("//") {
            path = path.dropFirst(2)
            guard path.hasPrefix("/") else { return nil }
        }
        guard !path.isEmpty, !path.hasSuffix("/") else { return nil }
        if path.hasPrefix("~/"), let home = Environment.value(for: "HOME") {
            return home + path.dropFirst()
        }
        return String(path)
    }

    private static func isPostgresURL(_ text: String) -> Bool {
        let lowercased = text.lowercased()
        return lowercased.hasPrefix("postgres://") || lowercased.hasPrefix("postgresql://")
    }

    /// `postgres://user:secret@host/db` → `postgres://user:***@host/db`.
    private static func redactingPassword(_ url: String) -> String {
        guard let schemeEnd = url.range(of: "://"),
            let at = url[schemeEnd.upperBound...].firstIndex(of: "@"),
            let colon = url[schemeEnd.upperBound..<at].firstIndex(of: ":")
        else { return url }
        return url[..<url.index(after: colon)] + "***" + url[at...]
    }
}
