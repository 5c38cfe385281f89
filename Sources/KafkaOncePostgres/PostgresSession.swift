import Foundation

/// The store's connection and what it takes to re-establish it.
///
/// `@unchecked Sendable`: the store hands this object only to jobs on its `BlockingWorker`, which
/// runs them one at a time on a single thread, so its mutable state is never touched concurrently.
final class PostgresSession: @unchecked Sendable {
    /// How long the store keeps trying to reconnect after losing its connection.
    static let reconnectBudget: Duration = .seconds(10)
    /// How many times a statement that hit a deadlock or a serialization failure is run again.
    static let transientRetries = 3

    let location: PostgresLocation
    private var connection: PostgresConnection?
    private(set) var isClosed = false
    /// How many transactions of grouped ``PostgresDeduplicationStore/withTransaction(fence:_:)``
    /// calls have committed, for tests.
    var committedTransactionGroups = 0

    init(location: PostgresLocation) {
        self.location = location
    }

    /// Connects for the first time, without retrying: a wrong URL should fail fast.
    func open() throws(PostgresFailure) {
        connection = try PostgresConnection(location)
    }

    /// Drops the connection; later calls fail.
    func close() {
        connection = nil
        isClosed = true
    }

    /// The connection, re-established first if it was lost.
    func connected() throws(PostgresFailure) -> PostgresConnection {
        if let connection, !connection.isBroken { return connection }
        return try reconnect()
    }

    /// Runs `body` on the connection. When the connection is lost, reconnects and runs `body` once
    /// more; after a deadlock or a serialization failure, runs it again a few times.
    ///
    /// Only for work that is safe to repeat: idempotent writes, reads, or a transaction that the
    /// server rolled back as a whole.
    func retrying<Value>(_ body: (PostgresConnection) throws -> Value) throws -> Value {
        var reconnected = false
        var transientFailures = 0
        while true {
            // Reconnecting has its own time budget: a failure to reconnect is final.
            let connection = try connected()
            do {
                return try body(connection)
            } catch let failure as PostgresFailure where failure.isConnectionLost && !reconnected {
                reconnected = true
                self.connection = nil
            } catch let failure as PostgresFailure
                where failure.isTransient && transientFailures < Self.transientRetries
            {
                transientFailures += 1
                // A short random pause, so two sessions that deadlocked do not collide again.
                Thread.sleep(forTimeInterval: Double.random(in: 0.005...0.05) * Double(transientFailures))
            }
        }
    }

    /// Connects again with exponential backoff, for at most ``reconnectBudget``.
    private func reconnect() throws(PostgresFailure) -> PostgresConnection {
        connection = nil
        let clock = ContinuousClock()
        let deadline = clock.now + Self.reconnectBudget
        var delay: Duration = .milliseconds(100)
        while true {
            do {
                let fresh = try PostgresConnection(location)
                connection = fresh
                return fresh
            } catch {
                guard clock.now + delay < deadline else {
                    throw PostgresFailure(
                        message: "the connection was lost and reconnecting failed for "
                            + "\(Self.reconnectBudget.components.seconds) s: \(error.message)",
                        isConnectionLost: true
                    )
                }
                Thread.sleep(forTimeInterval: delay.timeInterval)
                delay = min(delay * 2, .seconds(2))
            }
        }
    }
}
