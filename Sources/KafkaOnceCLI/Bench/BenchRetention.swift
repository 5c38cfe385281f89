/// How much of the benchmark topic the embedded broker keeps.
///
/// librdkafka's mock broker keeps 5 MiB of record batches per partition and drops the oldest
/// batches beyond that, as retention would. The bench refuses a topic whose estimated size comes
/// near that, and checks the watermarks after producing, so that no mode silently reads less.
enum BenchRetention {
    /// The most bytes of records a benchmark partition may hold: a margin under the mock's 5 MiB
    /// for batch headers and for the estimate's error.
    static let bytesPerPartitionLimit = 4_500_000

    /// The header that carries each message's idempotency key.
    static let keyHeader = "idempotency-key"

    /// The idempotency key of message number `index`.
    static func key(_ index: Int) -> String {
        "m-\(index)"
    }

    /// The size of one record in a v2 record batch: the value, the key header, and about 17
    /// bytes of lengths, deltas, attributes and amortised batch header.
    static func estimatedRecordBytes(_ plan: BenchPlan) -> Int {
        plan.payloadBytes + keyHeader.utf8.count + key(plan.messages - 1).utf8.count + 17
    }

    /// Bytes as megabytes with one decimal, for messages.
    static func megabytes(_ bytes: Int) -> String {
        let tenths = (bytes + 50_000) / 100_000
        return "\(tenths / 10).\(tenths % 10)"
    }
}
