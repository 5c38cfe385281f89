import Synchronization

/// The accounting system the handler posts invoices to.
///
/// Like a service that honours an `Idempotency-Key` header, it keeps one posting per key and
/// ignores a repeated one. It also remembers which release of the handler made each posting, so
/// the example can show what the replay ran.
final class Ledger: Sendable {
    struct Posting: Sendable {
        var invoice: String
        var cents: Int
        var release: Int
    }

    private let postings = Mutex<[String: Posting]>([:])
    private let calls = Mutex(0)

    /// Posts `invoice` once per idempotency key.
    func post(_ invoice: Invoice, cents: Int, idempotencyKey: String, release: Int) {
        calls.withLock { $0 += 1 }
        postings.withLock { postings in
            if postings[idempotencyKey] == nil {
                let posting = Posting(invoice: invoice.invoice, cents: cents, release: release)
                postings[idempotencyKey] = posting
            }
        }
    }

    /// The invoices posted by `release`, sorted.
    func invoices(postedBy release: Int) -> [String] {
        postings.withLock { $0.values.filter { $0.release == release }.map(\.invoice).sorted() }
    }

    /// How many times the handlers called the ledger: the postings, when no message ran twice.
    var callCount: Int { calls.withLock { $0 } }

    var postingCount: Int { postings.withLock { $0.count } }
}
