import Deadlines
import Durations
import Locking

/// Whether a worker that the hand-off keeps busy also asks the store for
/// due events, shared by the workers of one pipeline.
///
/// A worker claims whenever its take leaves room in its batch. Under load
/// the hand-off delivers most takes partly filled, so the workers claimed
/// every few callbacks, and nearly every claim found nothing: on PostgreSQL
/// 0.12–0.16 claims per callback, 0.0–0.1 events each, about a tenth of the
/// database's statement time (BENCHMARKS.md, session 22). Yet only a claim
/// finds some events: those recorded pending here (the hand-off full, an
/// order's later event held behind its earlier one), retries falling due,
/// other replicas' events, expired leases.
///
/// So after a claim that found nothing, a busy worker claims again only
/// when something says there may be news (``expectClaimable()``: an event
/// recorded pending here, a retry due; ``expectHeld()``: an event held
/// until an earlier one of its order finishes) or once `interval` has
/// passed, the bound on how long an event only a claim finds waits under
/// load. A worker with nothing handed over claims as before: this paces
/// only the claims beside handed-over events.
final class ClaimPacing: Sendable {
    private struct State {
        /// Bumped by ``expectClaimable()``.
        var news = 0
        /// `news` when the last claim that found nothing began.
        var newsSeen = 0
        /// When the last claim that found nothing began
        /// (``monotonicNanoseconds()``); nil after one that found events (a
        /// backlog: keep claiming) or before the first.
        var lastEmptyClaim: UInt64?
        /// Events were held here since a claim last found any: one may be
        /// released by any completion, so claims are not paced until then.
        var held = false
    }

    /// A claim a worker begins: hand it back to ``claimed(_:found:)``.
    struct Ticket: Sendable {
        fileprivate let news: Int
        fileprivate let startedAt: UInt64
    }

    private let state = Locked(State())
    /// The longest a busy worker goes without claiming, in nanoseconds
    /// (plain integers: see ``monotonicNanoseconds()``).
    let interval: UInt64

    /// Under load, an event that only a claim finds waits at most this long
    /// more; at ~4 workers, a few tens of claims a second instead of hundreds.
    static let defaultInterval = Duration.milliseconds(50)

    init(interval: Duration = ClaimPacing.defaultInterval) {
        self.interval = UInt64(clamping: interval.wholeNanoseconds)
    }

    /// Something may be claimable now: an event recorded pending, a retry due.
    func expectClaimable() {
        state.withLock { $0.news &+= 1 }
    }

    /// An event was recorded held behind an earlier one of its order.
    func expectHeld() {
        state.withLock { state in
            state.held = true
            state.news &+= 1
        }
    }

    /// A claim to make now, or nil when a busy worker should skip it.
    /// `busy`: the worker has handed-over events to run; `now`:
    /// ``monotonicNanoseconds()``.
    func claim(busy: Bool, now: UInt64 = monotonicNanoseconds()) -> Ticket? {
        state.withLock { state in
            if busy, !state.held, state.news == state.newsSeen,
               let last = state.lastEmptyClaim, now &- last < interval {
                return nil
            }
            return Ticket(news: state.news, startedAt: now)
        }
    }

    /// The claim of `ticket` ended; `found`: it claimed events.
    func claimed(_ ticket: Ticket, found: Bool) {
        state.withLock { state in
            if found {
                state.lastEmptyClaim = nil
                state.held = false
            } else if state.lastEmptyClaim.map({ $0 < ticket.startedAt }) ?? true {
                // News that came during the claim stays news: only what was
                // known when it began is seen.
                state.lastEmptyClaim = ticket.startedAt
                state.newsSeen = ticket.news
            }
        }
    }
}
