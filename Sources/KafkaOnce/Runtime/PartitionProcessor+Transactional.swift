/// Transactional mode: claims, the handler's statements and the outcomes of consecutive messages
/// commit in one store transaction.
extension PartitionProcessor {
    mutating func processTransactional(
        _ run: [PreparedMessage],
        handler: @escaping TransactionalMessageHandler,
        store: any TransactionalDeduplicationStore
    ) async throws {
        var start = 0
        while start < run.count {
            guard !worker.revoked else { throw PartitionStop.revoked }
            var slice = Array(run[start...])
            var outcome = try await transact(slice, handler: handler, store: store)

            // A transaction commits only when every message of its slice was handled, so that no
            // claim is left behind for a message that did not run. After an early stop, the
            // handled prefix runs again in a transaction of its own.
            while case .rolledBack(let partial) = outcome, partial.handledCount > 0 {
                slice = Array(slice.prefix(partial.handledCount))
                outcome = try await transact(slice, handler: handler, store: store)
            }
            switch outcome {
            case .committed(let batch):
                try await settle(slice[...], batch)
                start += slice.count
            case .rolledBack(let stopped):
                try await resolve(slice[0], stopped.stop, handler: handler, store: store)
                start += 1
            }
        }
    }

    /// Runs one slice in one transaction; an early stop rolls the transaction back.
    func transact(
        _ slice: [PreparedMessage],
        handler: @escaping TransactionalMessageHandler,
        store: any TransactionalDeduplicationStore,
        attempt: Int = 1
    ) async throws -> TransactionalBatch.Outcome {
        try await StoreRetry.run("transaction", worker: worker, context: context) { [fence, configuration] in
            do {
                let batch = try await store.withTransaction(fence: fence) { transaction in
                    try TransactionalBatch.run(
                        slice,
                        in: transaction,
                        handler: handler,
                        leaseDuration: configuration.leaseDuration,
                        attempt: attempt
                    )
                }
                return .committed(batch)
            } catch let early as TransactionalBatch.EarlyStop {
                return .rolledBack(early.result)
            }
        }
    }

    /// Handles the message a transaction stopped at: retries it, applies a policy, or waits for
    /// another owner's claim.
    mutating func resolve(
        _ item: PreparedMessage,
        _ stop: TransactionalBatch.Stop?,
        handler: @escaping TransactionalMessageHandler,
        store: any TransactionalDeduplicationStore
    ) async throws {
        switch stop {
        case .handlerFailed(let error):
            try await retryTransactional(item, firstError: error, handler: handler, store: store)
        case .needsAttention(let outcome):
            try await skip(item, outcome)
        case .busy:
            // Another partition's owner holds the key; claim it again once it is settled.
            let settled = try await claimUntilSettled(item)
            if case .completed = settled {
                try await skip(item, settled)
            } else if case .failed = settled {
                try await skip(item, settled)
            } else if case .conflict = settled {
                try await skip(item, settled)
            } else {
                try await retryTransactional(item, firstError: nil, handler: handler, store: store)
            }
        case nil:
            preconditionFailure("a rolled-back transaction always says why it stopped")
        }
    }

    /// Applies what a committed transaction did: counts, duplicate hooks, the committable offset.
    mutating func settle(_ items: ArraySlice<PreparedMessage>, _ batch: TransactionalBatch.Result) async throws {
        for (item, outcome) in zip(items, batch.outcomes) {
            switch outcome {
            case .acquired, .abandoned:
                metrics.processed.add(1)
            case .completed(let record):
                metrics.duplicatesSkipped.add(1)
                await context.onDuplicate?(item.message, record)
            case .failed:
                metrics.failedSkipped.add(1)
            case .conflict, .busy:
                break
            }
            lastHandled = item.message.offset
        }
        if let last = items.last { publish(last.message.offset) }
    }

    /// Runs one message on its own, one transaction per attempt, with backoff between attempts.
    ///
    /// - Parameter firstError: The error of an attempt already made, or `nil` when none was.
    mutating func retryTransactional(
        _ item: PreparedMessage,
        firstError: String?,
        handler: @escaping TransactionalMessageHandler,
        store: any TransactionalDeduplicationStore
    ) async throws {
        var lastError = firstError ?? ""
        let firstAttempt = firstError == nil ? 1 : 2
        let maxAttempts = configuration.retry.maxAttempts
        for attempt in firstAttempt...max(firstAttempt, maxAttempts) where attempt <= maxAttempts {
            if attempt > 1 { try await backOff(after: attempt - 1, item: item, error: lastError) }
            switch try await transact([item], handler: handler, store: store, attempt: attempt) {
            case .committed(let batch):
                try await settle([item], batch)
                return
            case .rolledBack(let stopped):
                guard case .handlerFailed(let error) = stopped.stop else {
                    return try await resolve(item, stopped.stop, handler: handler, store: store)
                }
                lastError = error
            }
        }
        try await fail(item, reason: lastError, attempts: maxAttempts)
    }
}
