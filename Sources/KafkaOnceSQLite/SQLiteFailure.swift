import CSQLite
import KafkaOnce

/// A failed SQLite call: its result code and SQLite's own message.
///
/// Statements throw this; the store turns it into a ``/KafkaOnce/DeduplicationStoreError`` that names the
/// file, the operation and what to do, once it knows which operation failed.
struct SQLiteFailure: Error {
    /// The extended result code.
    var code: Int32
    /// SQLite's message, or a description of what the store found wrong.
    var detail: String
}

extension DeduplicationStoreError {
    /// Describes a failed SQLite call on the store at `path`.
    ///
    /// - Parameters:
    ///   - failure: The result code and SQLite's message.
    ///   - path: The database file, named in the message.
    ///   - action: What the store was doing, as a gerund phrase ("claiming 3 keys").
    init(_ failure: SQLiteFailure, path: String, action: String) {
        let detail = "\(action): \(failure.detail)"
        switch failure.code & 0xFF {
        case SQLITE_BUSY, SQLITE_LOCKED:
            self.init(
                .unavailable,
                "the SQLite store at '\(path)' is locked by another process (\(detail)); "
                    + "retry later, or stop the process that holds the lock"
            )
        case SQLITE_READONLY:
            self.init(
                .unusable,
                "the SQLite store at '\(path)' is read-only (\(detail)); make the file, its -wal and -shm "
                    + "files and its directory writable by this process, or point --store elsewhere"
            )
        case SQLITE_CANTOPEN:
            self.init(
                .unusable,
                "cannot open the SQLite store at '\(path)' (\(detail)); check that its directory exists "
                    + "and is writable by this process, or point --store elsewhere"
            )
        case SQLITE_FULL:
            self.init(
                .unusable,
                "the disk holding the SQLite store at '\(path)' is full (\(detail)); free some space, "
                    + "then restart the consumer"
            )
        case SQLITE_IOERR:
            self.init(
                .unusable,
                "an I/O error occurred on the SQLite store at '\(path)' (\(detail)); check the disk "
                    + "and the permissions of the file and its directory"
            )
        case SQLITE_NOTADB, SQLITE_CORRUPT:
            self.init(
                .unusable,
                "'\(path)' is not a KafkaOnce SQLite store or is corrupt (\(detail)); "
                    + "move it away or point --store elsewhere"
            )
        case SQLITE_ERROR, SQLITE_CONSTRAINT, SQLITE_MISMATCH, SQLITE_RANGE, SQLITE_TOOBIG:
            self.init(
                .invalidArgument,
                "SQLite refused a statement on the store at '\(path)' (\(detail)); "
                    + "check the statement and its parameters"
            )
        default:
            self.init(
                .unusable,
                "SQLite failed on the store at '\(path)' (\(detail); result code \(failure.code)); "
                    + "check the file and the disk"
            )
        }
    }

    /// The error for any call on a closed store.
    static func closed(path: String) -> DeduplicationStoreError {
        DeduplicationStoreError(
            .closed,
            "the SQLite store at '\(path)' was closed; create a new SQLiteDeduplicationStore to use it again"
        )
    }
}
