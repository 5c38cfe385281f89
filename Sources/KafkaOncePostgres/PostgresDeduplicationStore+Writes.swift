import KafkaOnce

// MARK: - Claims, finishes and releases

extension PostgresDeduplicationStore {
    /// Claims one partition's batch of keys in one transaction of two round trips.
    ///
    /// New keys are inserted in progress (`INSERT … ON CONFLICT DO NOTHING`) and existing records
    /// are locked `FOR UPDATE` in the same statement; the outcome of each request, in order, then
    /// follows ``/KafkaOnce/ClaimRules``, and the claims taken over or renewed are written before the commit.
    ///
    /// - Throws: ``/KafkaOnce/DeduplicationStoreError/Code/fenced`` when `fence` is stale (nothing is claimed),
    ///   ``/KafkaOnce/DeduplicationStoreError/Code/invalidArgument`` for a request from another partition,
    ///   ``/KafkaOnce/DeduplicationStoreError/Code/unavailable`` when the server stayed unreachable.
    public func claim(
        _ requests: [ClaimRequest],
        fence: PartitionFence,
        leaseDuration: Duration
    ) async throws -> [ClaimOutcome] {
        let claim = try PostgresClaim(requests, fence: fence, leaseDuration: leaseDuration)
        return try await submit(.claim(claim))
    }

    /// Records one partition's outcomes in one statement and returns once they are committed.
    ///
    /// Finishes that other partitions submit meanwhile share the transaction and its commit, and
    /// a group of finishes costs one round trip. When a key appears twice, its last outcome counts.
    ///
    /// - Throws: ``/KafkaOnce/DeduplicationStoreError/Code/fenced`` when `fence` is stale; nothing is recorded.
    public func finish(_ outcomes: [RecordedOutcome], fence: PartitionFence) async throws {
        let finish = try PostgresFinish(outcomes, fence: fence)
        _ = try await submit(.finish(finish))
    }

    /// Deletes the keys' records that are in progress under exactly `fence`, in one statement;
    /// see ``/KafkaOnce/DeduplicationStore/release(_:fence:)``.
    ///
    /// The release shares the next group commit with claims and finishes of other partitions, and
    /// checks the fence as a finish does: under the partition row locked `FOR SHARE`.
    ///
    /// - Throws: ``/KafkaOnce/DeduplicationStoreError/Code/fenced`` when `fence` is stale; nothing is released.
    public func release(_ keys: [String], fence: PartitionFence) async throws {
        let release = try PostgresRelease(keys, fence: fence)
        _ = try await submit(.release(release))
    }

    /// Queues `write` for the next group commit and waits for it.
    private func submit(_ write: PostgresWrite) async throws -> [ClaimOutcome] {
        try checkOpen()
        return try await withCheckedThrowingContinuation { continuation in
            pendingWrites.append(PostgresPendingWrite(write: write, continuation: continuation))
            let accepted = worker.submit { [self] in commitPendingWrites() }
            if !accepted {
                for pending in pendingWrites.take(upTo: .max) {
                    pending.continuation.resume(throwing: Self.closedError(location))
                }
            }
        }
    }

    /// Runs on the store's thread: commits the writes queued so far, if an earlier job has not.
    private func commitPendingWrites() {
        let batch = pendingWrites.take(upTo: Self.groupCommitLimit)
        guard !batch.isEmpty else { return }
        guard !session.isClosed else {
            for pending in batch { pending.continuation.resume(throwing: Self.closedError(location)) }
            return
        }
        commit(batch)
    }

    private func commit(_ batch: [PostgresPendingWrite]) {
        do {
            let results = try session.retrying { connection in
                try PostgresGroupCommit.run(batch.map(\.write), on: connection, location: location)
            }
            for (pending, result) in zip(batch, results) {
                pending.continuation.resume(with: result.mapError { $0 })
            }
        } catch let failure as PostgresFailure where batch.count > 1 && !failure.isConnectionLost {
            // One write's statement failed and took the group with it: run each alone, so only
            // the write at fault fails.
            for pending in batch { commit([pending]) }
        } catch {
            for pending in batch {
                let reported = (error as? PostgresFailure)?.storeError(pending.write.action, at: location) ?? error
                pending.continuation.resume(throwing: reported)
            }
        }
    }
}
