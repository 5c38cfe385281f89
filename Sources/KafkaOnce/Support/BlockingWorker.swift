import CKafkaOnceShim
import Foundation

/// A dedicated thread that runs blocking calls on behalf of async code.
///
/// librdkafka's polls and synchronous commits, SQLite's fsyncs and libpq's round trips block the
/// calling thread. Run on the Swift cooperative pool (two threads on a two-core machine) they would
/// stall every task in the process, so each client owns one of these instead and hands it closures.
/// Jobs run one at a time, in submission order. The thread ends when the worker is stopped or
/// released, after the jobs already queued have run.
public final class BlockingWorker: Sendable {
    private let queue = JobQueue()

    /// Starts the thread.
    ///
    /// - Parameter name: The thread's name, shown in debuggers and crash reports.
    public init(name: String) {
        let queue = self.queue
        startThread(named: name) { queue.serve() }
    }

    deinit {
        queue.stop()
    }

    /// Runs `body` on the worker's thread and returns its result.
    ///
    /// - Throws: Whatever `body` throws, or ``KafkaError/Code/closed`` when the worker was stopped.
    public func run<Value: Sendable>(_ body: @escaping @Sendable () throws -> Value) async throws -> Value {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Value, any Error>) in
            let accepted = queue.submit {
                continuation.resume(with: Result { try body() })
            }
            if !accepted {
                continuation.resume(throwing: KafkaError(code: .closed, message: "the worker thread was stopped"))
            }
        }
    }

    /// Queues `job` without waiting for it; returns `false` when the worker was stopped.
    @discardableResult
    public func submit(_ job: @escaping @Sendable () -> Void) -> Bool {
        queue.submit(job)
    }

    /// Lets queued jobs finish, then ends the thread. New jobs are refused.
    public func stop() {
        queue.stop()
    }
}

/// The worker's job list, shared by the thread and the submitters.
private final class JobQueue: @unchecked Sendable {
    private let condition = NSCondition()
    // Guarded by `condition`.
    private var jobs: [() -> Void] = []
    private var isStopping = false

    func submit(_ job: @escaping () -> Void) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        guard !isStopping else { return false }
        jobs.append(job)
        condition.signal()
        return true
    }

    func stop() {
        condition.lock()
        isStopping = true
        condition.signal()
        condition.unlock()
    }

    func serve() {
        while true {
            condition.lock()
            while jobs.isEmpty && !isStopping {
                condition.wait()
            }
            if jobs.isEmpty {
                condition.unlock()
                return
            }
            let batch = jobs
            jobs.removeAll(keepingCapacity: true)
            condition.unlock()

            for job in batch {
                job()
            }
        }
    }
}

/// Runs one blocking closure on a fresh thread and returns its result, for a wait that has no
/// worker of its own (draining partitions at shutdown) or a loop that keeps a thread busy (the
/// runtime's poll loop).
func onDedicatedThread<Value: Sendable>(
    named name: String = "kafka-once.wait",
    _ body: @escaping @Sendable () throws -> Value
) async throws -> Value {
    try await withCheckedThrowingContinuation { continuation in
        startThread(named: name) { continuation.resume(with: Result { try body() }) }
    }
}

/// The non-throwing form of ``onDedicatedThread(named:_:)``.
func onDedicatedThread<Value: Sendable>(
    named name: String = "kafka-once.wait",
    _ body: @escaping @Sendable () -> Value
) async -> Value {
    await withCheckedContinuation { continuation in
        startThread(named: name) { continuation.resume(returning: body()) }
    }
}

/// Starts a thread that runs `body` under `name`, as debuggers, `top -H` and `perf` show it.
///
/// Foundation's `Thread.name` does not reach the system on Linux, so the thread names itself
/// there too, with the first 15 bytes of `name` (the system's limit), such as `kafka-once.poll`.
package func startThread(named name: String, _ body: @escaping @Sendable () -> Void) {
    let thread = Thread {
        kafka_once_name_current_thread(name)
        body()
    }
    thread.name = name
    thread.start()
}
