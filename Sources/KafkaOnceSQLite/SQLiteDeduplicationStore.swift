import Foundation
import KafkaOnce

/// The embedded deduplication store: one SQLite file, in write-ahead-log mode with full syncs.
///
/// Every SQLite call runs on a thread the store owns, never on the Swift cooperative pool.
/// Concurrent ``claim(_:fence:leaseDuration:)``, ``finish(_:fence:)`` and
/// ``withTransaction(fence:_:)`` calls from different partitions share one transaction and one sync
/// (group commit). The store
/// also offers its transaction to the handler (``withTransaction(fence:_:)``), so the handler's own
/// tables and the records commit together.
///
/// ```swift
/// let store = try SQLiteDeduplicationStore(path: "/var/lib/orders/dedup.sqlite")
/// let epochs = try await store.acquire(assigned, owner: instanceID)
/// let fence = PartitionFence(partition: partition, owner: instanceID, epoch: epochs[partition]!)
/// let outcomes = try await store.claim(requests, fence: fence, leaseDuration: .seconds(60))
/// // run the handler for the acquired ones, then:
/// try await store.finish(recorded, fence: fence)   // durable when it returns
/// ```
///
/// - Important: Several processes on one machine may share the file; SQLite's locks keep them
///   consistent, and a process that waits longer than the busy timeout gets
///   ``/KafkaOnce/DeduplicationStoreError/Code/unavailable``. Keep the file on a local file system: network
///   file systems break SQLite's locking. To share a store between machines, use the PostgreSQL
///   store.
/// - Important: When a claim takes over an abandoned key, the record's
///   ``/KafkaOnce/DeduplicationRecord/origin`` becomes the claiming message, because the record's epoch is
///   only comparable with the fence of that message's partition. ``finish(_:fence:)`` likewise
///   stores the origin of the recorded outcome.
public final class SQLiteDeduplicationStore: TransactionalDeduplicationStore {
    /// The database file.
    public let path: String
    let worker: BlockingWorker
    let connectionBox = SQLiteConnectionBox()
    let writeQueue = SQLiteWriteQueue()

    /// Opens the store at `path`, creating the file and its tables when they do not exist.
    ///
    /// The file is opened on the store's own thread; the caller waits until it is ready, so create
    /// stores at startup rather than on a latency-sensitive path.
    ///
    /// - Parameters:
    ///   - path: The database file. Its directory must exist.
    ///   - busyTimeout: How long a call waits for another process's lock on the file before it
    ///     fails with ``/KafkaOnce/DeduplicationStoreError/Code/unavailable``.
    /// - Throws: ``/KafkaOnce/DeduplicationStoreError`` naming `path`: ``/KafkaOnce/DeduplicationStoreError/Code/unusable``
    ///   when the directory is missing, the file cannot be written, is not a database, or was
    ///   written by a newer KafkaOnce; ``/KafkaOnce/DeduplicationStoreError/Code/unavailable`` when another
    ///   process holds the lock for longer than `busyTimeout`.
    public init(path: String, busyTimeout: Duration = .seconds(5)) throws {
        self.path = path
        self.worker = BlockingWorker(name: "kafka-once.sqlite")

        let failure = SQLiteHandoff<any Error>()
        let opened = DispatchSemaphore(value: 0)
        worker.submit { [connectionBox] in
            do {
                connectionBox.connection = try SQLiteConnection(path: path, busyTimeout: busyTimeout)
            } catch {
                failure.put(error)
            }
            opened.signal()
        }
        opened.wait()

        if let error = failure.value {
            _ = writeQueue.close {}
            worker.stop()
            throw error
        }
    }

    deinit {
        let box = self.connectionBox
        let worker = self.worker
        _ = writeQueue.close {
            worker.submit { box.connection = nil }
        }
        worker.stop()
    }

    /// Records the pending outcomes, then closes the file. Calls made afterwards throw
    /// ``/KafkaOnce/DeduplicationStoreError/Code/closed``; closing again does nothing.
    public func close() async throws {
        let box = self.connectionBox
        let worker = self.worker
        let didClose = await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
            let closing = writeQueue.close {
                // Queued after every grouped call already accepted, so those are committed first.
                let accepted = worker.submit {
                    box.connection?.close()
                    box.connection = nil
                    continuation.resume(returning: true)
                }
                if !accepted {
                    continuation.resume(returning: true)
                }
            }
            if !closing {
                continuation.resume(returning: false)
            }
        }
        if didClose {
            worker.stop()
        }
    }

    // MARK: - Running on the worker thread

    /// Runs `body` with the connection on the worker thread.
    ///
    /// - Parameter action: What the call does, as a gerund phrase, for error messages.
    func perform<Value: Sendable>(
        _ action: String,
        _ body: @escaping @Sendable (SQLiteConnection) throws -> Value
    ) async throws -> Value {
        guard !writeQueue.isClosed else { throw DeduplicationStoreError.closed(path: path) }
        do {
            return try await worker.run { [connectionBox, path] in
                guard let connection = connectionBox.connection else {
                    throw DeduplicationStoreError.closed(path: path)
                }
                return try connection.describingFailures(action) { try body(connection) }
            }
        } catch let error as KafkaError where error.code == .closed {
            throw DeduplicationStoreError.closed(path: path)
        }
    }
}
