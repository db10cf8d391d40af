import Locking

/// Tasks suspended until something happens to a key, or until a time-out.
///
/// With `remembersUnheard`, a notification nobody was waiting for is kept
/// (one per key) and ends the next wait at once: the workers' wake-up must
/// not be lost while they are busy. Waiting never blocks a thread; the
/// time-out is a child task of the wait, cancelled when the wait ends.
final class Waiters<Key: Hashable & Sendable>: Sendable {
    private struct State {
        var waiting: [Key: [Int: CheckedContinuation<Void, Never>]] = [:]
        var unheard: Set<Key> = []
        var cancelled: Set<Int> = []
        var nextTicket = 0
    }
    private let state = Locked(State())
    private let remembersUnheard: Bool

    init(remembersUnheard: Bool) {
        self.remembersUnheard = remembersUnheard
    }

    /// Returns on a notification for `key`, after `timeout`, or on cancellation.
    func wait(for key: Key, timeout: Duration) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { try? await Task.sleep(for: timeout) }
            group.addTask { await self.notification(for: key) }
            // Whichever ends first ends the other.
            await group.next()
            group.cancelAll()
        }
    }

    /// Returns on a notification for `key` or on cancellation.
    private func notification(for key: Key) async {
        let ticket = state.withLock { state in
            defer { state.nextTicket += 1 }
            return state.nextTicket
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = state.withLock { state in
                    if state.cancelled.remove(ticket) != nil { return true }
                    if remembersUnheard, state.unheard.remove(key) != nil { return true }
                    state.waiting[key, default: [:]][ticket] = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            if !resume(key, ticket) { _ = state.withLock { $0.cancelled.insert(ticket) } }
        }
        // A ticket cancelled after its continuation was resumed leaves no trace.
        state.withLock { _ = $0.cancelled.remove(ticket) }
    }

    /// Resumes everyone waiting for `key`.
    func notify(_ key: Key) {
        let resumed = state.withLock { state in
            let waiters = state.waiting.removeValue(forKey: key) ?? [:]
            if waiters.isEmpty && remembersUnheard { state.unheard.insert(key) }
            return waiters.values
        }
        for continuation in resumed { continuation.resume() }
    }

    @discardableResult
    private func resume(_ key: Key, _ ticket: Int) -> Bool {
        let continuation = state.withLock { state in
            let continuation = state.waiting[key]?.removeValue(forKey: ticket)
            if state.waiting[key]?.isEmpty == true { state.waiting[key] = nil }
            return continuation
        }
        continuation?.resume()
        return continuation != nil
    }
}
