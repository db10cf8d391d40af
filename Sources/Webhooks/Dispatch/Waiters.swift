import Deadlines
import Locking

/// Tasks suspended until something happens to a key, or until a time-out.
///
/// With `remembersUnheard`, a notification nobody was waiting for is kept
/// (one per key) and ends the next wait at once: the workers' wake-up must
/// not be lost while they are busy. Waiting never blocks a thread; the
/// time-out is kept by a ``DeadlineTimer`` (the process's deadline thread),
/// not by a sleeping task: the workers wait after every batch.
final class Waiters<Key: Hashable & Sendable>: Sendable {
    private struct State {
        var waiting: [Key: [Int: CheckedContinuation<Void, Never>]] = [:]
        var unheard: Set<Key> = []
        /// Tickets whose wait ended before it suspended.
        var ended: Set<Int> = []
        var nextTicket = 0
    }
    private let state = Locked(State())
    private let remembersUnheard: Bool

    init(remembersUnheard: Bool) {
        self.remembersUnheard = remembersUnheard
    }

    /// Returns on a notification for `key`, after `timeout`, or on cancellation.
    func wait(for key: Key, timeout: Duration, timer: any DeadlineTimer = DeadlineThread.shared) async {
        let ticket = state.withLock { state in
            defer { state.nextTicket += 1 }
            return state.nextTicket
        }
        let alarm = timer.schedule(after: timeout) { [self] in end(key, ticket) }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = state.withLock { state in
                    if state.ended.remove(ticket) != nil { return true }
                    if remembersUnheard, state.unheard.remove(key) != nil { return true }
                    state.waiting[key, default: [:]][ticket] = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            end(key, ticket)
        }
        alarm.cancel()
        // A ticket ended after its continuation was resumed leaves no trace.
        state.withLock { _ = $0.ended.remove(ticket) }
    }

    /// Ends one wait (its time-out, or its task's cancellation): resumes
    /// it, or, if it is not suspended yet, makes it return at once.
    private func end(_ key: Key, _ ticket: Int) {
        let continuation = state.withLock { state in
            guard let continuation = state.waiting[key]?.removeValue(forKey: ticket) else {
                state.ended.insert(ticket)
                return CheckedContinuation<Void, Never>?.none
            }
            if state.waiting[key]?.isEmpty == true { state.waiting[key] = nil }
            return continuation
        }
        continuation?.resume()
    }

    /// Whether a wait for `key` is suspended (for tests).
    func isWaiting(for key: Key) -> Bool { waitingCount(for: key) > 0 }

    /// How many waits for `key` are suspended (for tests).
    func waitingCount(for key: Key) -> Int { state.withLock { $0.waiting[key]?.count ?? 0 } }

    /// Resumes everyone waiting for `key`.
    func notify(_ key: Key) {
        let resumed = state.withLock { state in
            // Nobody waits (every handler attempt notifies its event id, and
            // only a repeat of an after-handler callback waits for one): no
            // hash of the key.
            guard !state.waiting.isEmpty else {
                if remembersUnheard { state.unheard.insert(key) }
                return [CheckedContinuation<Void, Never>]()
            }
            let waiters = state.waiting.removeValue(forKey: key) ?? [:]
            if waiters.isEmpty && remembersUnheard { state.unheard.insert(key) }
            return Array(waiters.values)
        }
        for continuation in resumed { continuation.resume() }
    }

    /// Resumes one of those waiting for `key` (the longest waiting): one
    /// recorded event needs one worker, and waking them all would send the
    /// rest to claim nothing.
    func notifyOne(_ key: Key) {
        let resumed = state.withLock { state -> CheckedContinuation<Void, Never>? in
            guard let ticket = state.waiting[key]?.keys.min() else {
                if remembersUnheard { state.unheard.insert(key) }
                return nil
            }
            let continuation = state.waiting[key]?.removeValue(forKey: ticket)
            if state.waiting[key]?.isEmpty == true { state.waiting[key] = nil }
            return continuation
        }
        resumed?.resume()
    }
}
