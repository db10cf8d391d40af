import CoreMetrics
import Inbox
import Locking

/// What the pipeline counts, through swift-metrics: the process picks the
/// backend (Prometheus in the standalone binary); with none bootstrapped
/// these cost next to nothing.
///
/// Each counter is made on first use and kept by the pipeline: making one
/// asks the backend (Prometheus: a registry lookup under its lock, labels
/// checked and copied), which cost more per callback than the rest of its
/// bookkeeping. As before, a series appears once first counted. A pipeline
/// is built after the process bootstraps its backend (`serve` does so
/// first), so the counters it keeps are the backend's.
final class PipelineMetrics: Sendable {
    enum StoreOutcome: String, Sendable {
        case recorded, duplicate, conflict, unavailable
    }

    enum AttemptResult: String, Sendable {
        case completed, retry
        case deadLetter = "dead_letter"
        case lateClaim = "late_claim"
    }

    private enum Key: Equatable {
        case answered(route: String, status: Int)
        case stored(StoreOutcome, EventKind)
        case attempt(AttemptResult)
        case riskDecision(String)
    }

    /// Scanned, not hashed: a few dozen keys at most (routes × statuses,
    /// outcomes × kinds, attempt results), and three are asked for on every
    /// callback. Hashing a key (its route's text) under the lock cost more
    /// than comparing it with each kept one (callgrind, BENCHMARKS.md
    /// session 11). The scan starts with the first made: those of the first
    /// callbacks, which every callback asks for again.
    private let counters = Locked([(key: Key, counter: Counter)]())

    /// Callback answers by route and status code.
    func answered(route: String, status: Int) {
        counter(.answered(route: route, status: status)).increment()
    }

    /// Store outcomes of verified callbacks: recorded, duplicate, conflict, unavailable.
    func stored(_ outcome: StoreOutcome, kind: EventKind) {
        counter(.stored(outcome, kind)).increment()
    }

    /// Handler attempts by result: completed, retry, dead_letter, late_claim.
    func attempt(_ result: AttemptResult) {
        counter(.attempt(result)).increment()
    }

    func riskDecision(_ decision: String) {
        counter(.riskDecision(decision)).increment()
    }

    private func counter(_ key: Key) -> Counter {
        counters.withLock { counters in
            for kept in counters where kept.key == key { return kept.counter }
            let counter =
                switch key {
                case .answered(let route, let status):
                    Counter(label: "trustpay_webhooks_requests_total", dimensions: [("route", route), ("status", String(status))])
                case .stored(let outcome, let kind):
                    Counter(label: "trustpay_webhooks_events_total", dimensions: [("outcome", outcome.rawValue), ("kind", kind.rawValue)])
                case .attempt(let result):
                    Counter(label: "trustpay_webhooks_handler_attempts_total", dimensions: [("result", result.rawValue)])
                case .riskDecision(let decision):
                    Counter(label: "trustpay_webhooks_risk_decisions_total", dimensions: [("decision", decision)])
                }
            counters.append((key, counter))
            return counter
        }
    }
}
