/// Conflicts waiting for the conflict handlers, which run after the answer.
///
/// A request only enqueues; the dispatch service runs the handlers on the
/// handler executor, one report after another, so a request never leaves a
/// task of its own behind. The queue keeps the newest reports when handlers
/// fall behind (conflicts are rare: only TrustPay can sign one).
struct ConflictReports: Sendable {
    private let stream: AsyncStream<ConflictReport>
    private let continuation: AsyncStream<ConflictReport>.Continuation

    init(capacity: Int = 1024) {
        (stream, continuation) = AsyncStream.makeStream(bufferingPolicy: .bufferingNewest(capacity))
    }

    func enqueue(_ report: ConflictReport) {
        continuation.yield(report)
    }

    /// Hands each report to `handlers` in order, until cancelled.
    func run(_ handlers: [Handlers.Conflict]) async {
        for await report in stream {
            for handler in handlers { await handler(report) }
        }
    }
}
