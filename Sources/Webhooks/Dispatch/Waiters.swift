import Locking

/// Tasks suspended until something happens to a key, or until a time-out.
///
/// With `remembersUnheard`, a notification nobody was waiting for is kept
/// (one per key) and ends the next wait at once: the workers' wake-up must
/// not be lost while they are busy. Waiting never blocks a thread, and a
/// wait that ends early cancels its timer.
final class Waiters<Key: Hashable & Sendable>: Sendable {
    private struct Waiter {
        var continuation: CheckedContinuation<Void, Never>
        var timer: Task<Void, Never>?
    }
    private struct State {
        var waiting: [Key: [Int: Waiter]] = [:]
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
        let ticket = state.withLock { state in
            defer { state.nextTicket += 1 }
            return state.nextTicket
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = state.withLock { state in
                    if state.cancelled.remove(ticket) != nil { return true }
                    if remembersUnheard, state.unheard.remove(key) != nil { return true }
                    state.waiting[key, default: [:]][ticket] = Waiter(continuation: continuation)
                    return false
                }
                if resumeNow {
                    continuation.resume()
                    return
                }
                let timer = Task {
                    do { try await Task.sleep(for: timeout) } catch { return }
                    self.resume(key, ticket)
                }
                let ended = state.withLock { state in
                    guard state.waiting[key]?[ticket] != nil else { return true }
                    state.waiting[key]?[ticket]?.timer = timer
                    return false
                }
                if ended { timer.cancel() }
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
        for waiter in resumed {
            waiter.timer?.cancel()
            waiter.continuation.resume()
        }
    }

    @discardableResult
    private func resume(_ key: Key, _ ticket: Int) -> Bool {
        let waiter = state.withLock { state in
            let waiter = state.waiting[key]?.removeValue(forKey: ticket)
            if state.waiting[key]?.isEmpty == true { state.waiting[key] = nil }
            return waiter
        }
        waiter?.timer?.cancel()
        waiter?.continuation.resume()
        return waiter != nil
    }
}
