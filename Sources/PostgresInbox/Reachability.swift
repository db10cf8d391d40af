import Durations
import Inbox
import Locking

/// Whether PostgreSQL answered lately, so that calls which would only queue
/// for a connection that is not coming fail at once instead.
///
/// While the database is down the pool keeps requests waiting for a
/// connection until their deadline: without this, every callback would
/// hold its TrustPay request for the whole operation timeout before its
/// `503`. After one call finds the database unreachable, the calls that
/// start new work (recording, claiming, readiness) are refused at once
/// until a probe, or any other call, gets an answer. Calls that finish work
/// already done (recording a handler's outcome) always try: a false alarm
/// must not make a handler run twice.
final class Reachability: Sendable {
    private struct State {
        var downSince: ContinuousClock.Instant?
        var reason = ""
    }
    private let state = Locked(State())

    /// The error for a call refused while the database is unreachable; nil when it is not.
    func refusal() -> StoreError? {
        state.withLock { state in
            guard let since = state.downSince else { return nil }
            let seconds = (ContinuousClock.now - since).components.seconds
            return .unavailable(
                "PostgreSQL has not answered for \(seconds) s (\(state.reason)); not tried until it answers again")
        }
    }

    /// Records that the database could not be reached; true if it was reachable until now.
    func markDown(_ reason: String) -> Bool {
        state.withLock { state in
            guard state.downSince == nil else { return false }
            state.downSince = .now
            state.reason = reason
            return true
        }
    }

    /// Records an answer; returns how long the database was unreachable, if it was.
    func markUp() -> Duration? {
        state.withLock { state in
            guard let since = state.downSince else { return nil }
            state.downSince = nil
            return .now - since
        }
    }
}
