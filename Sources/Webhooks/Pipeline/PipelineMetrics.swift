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

    /// How an event reached a dispatch worker.
    enum DispatchRoute: String, Sendable {
        /// From the request that recorded it, in memory (``HandOff``).
        case handOff = "hand_off"
        /// Claimed from the store: held behind an earlier event of its
        /// order, recorded while the hand-off was full, a retry, an expired
        /// lease, another replica's.
        case claim
    }

    private enum Key: Equatable {
        case answered(route: String, status: Int)
        case stored(StoreOutcome, EventKind)
        case attempt(AttemptResult)
        case dispatched(DispatchRoute)
        case riskDecision(String)
    }

    /// Scanned, not hashed: a few dozen keys at most (routes × statuses,
    /// outcomes × kinds, attempt results), and three are asked for on every
    /// callback. Hashing a key (its route's text) under the lock cost more
    /// than comparing it with each kept one (callgrind, BENCHMARKS.md
    /// session 11). The scan starts with the first made: those of the first
    /// callbacks, which every callback asks for again.
    private let counters = Locked([(key: Key, counter: Counter)]())
    /// `nil`: the bootstrapped backend's, as each counter is made.
    private let factory: (any MetricsFactory)?

    /// `factory`: for a test that counts on its own.
    init(factory: (any MetricsFactory)? = nil) {
        self.factory = factory
    }

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

    /// Events a dispatch worker took, by how they reached it: the share
    /// claimed is the work the hand-off did not spare (a claim is a write of
    /// its own). Counted per batch, not per event.
    func dispatched(handedOver: Int, claimed: Int) {
        if handedOver > 0 { counter(.dispatched(.handOff)).increment(by: Int64(handedOver)) }
        if claimed > 0 { counter(.dispatched(.claim)).increment(by: Int64(claimed)) }
    }

    func riskDecision(_ decision: String) {
        counter(.riskDecision(decision)).increment()
    }

    private func counter(_ key: Key) -> Counter {
        counters.withLock { counters in
            for kept in counters where kept.key == key { return kept.counter }
            let (label, dimensions): (String, [(String, String)]) =
                switch key {
                case .answered(let route, let status):
                    ("trustpay_webhooks_requests_total", [("route", route), ("status", String(status))])
                case .stored(let outcome, let kind):
                    ("trustpay_webhooks_events_total", [("outcome", outcome.rawValue), ("kind", kind.rawValue)])
                case .attempt(let result):
                    ("trustpay_webhooks_handler_attempts_total", [("result", result.rawValue)])
                case .dispatched(let route):
                    ("trustpay_webhooks_dispatched_events_total", [("via", route.rawValue)])
                case .riskDecision(let decision):
                    ("trustpay_webhooks_risk_decisions_total", [("decision", decision)])
                }
            let counter = Counter(label: label, dimensions: dimensions, factory: factory ?? MetricsSystem.factory)
            counters.append((key, counter))
            return counter
        }
    }
}
