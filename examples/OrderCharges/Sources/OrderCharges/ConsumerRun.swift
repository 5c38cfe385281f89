import KafkaOnce

extension EffectivelyOnceConsumer {
    /// Runs the consumer until its metrics satisfy `isDone`, `limit` passes, or SIGINT or SIGTERM
    /// arrives; then stops it gracefully: drain, record, commit, leave the group.
    ///
    /// - Returns: Whether `isDone` held when the consumer stopped.
    /// - Throws: What ``EffectivelyOnceConsumer/run()`` throws.
    func run(
        until isDone: @escaping @Sendable (EffectivelyOnceMetrics.Snapshot) -> Bool,
        limit: Duration
    ) async throws -> Bool {
        let deadline = ContinuousClock.now + limit
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { [self] in try await run() }
            group.addTask { [self] in
                while !isDone(metrics.snapshot()), ContinuousClock.now < deadline, !Task.isCancelled {
                    try? await Task.sleep(for: .milliseconds(100))
                }
                shutdown()
            }
            // Whichever ends first, the other follows: a finished wait stops the consumer, and a
            // consumer that stopped on its own (a signal, an error) ends the wait.
            try await group.next()
            group.cancelAll()
            try await group.waitForAll()
        }
        return isDone(metrics.snapshot())
    }
}
