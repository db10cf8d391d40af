import Locking

/// One merchant's share of the API: at most `limit` requests in flight and
/// starts spaced by `spacing`. Callers beyond either bound wait, suspended
/// (never blocking a thread), first come first served; a caller cancelled
/// while waiting leaves the queue.
///
/// A gate rather than a worker pool: each query stays in its caller's task,
/// so no unstructured task is ever started.
final class RequestGate: Sendable {
    private struct Waiter {
        let id: UInt64
        let continuation: CheckedContinuation<Bool, Never>
    }

    private struct State {
        var available: Int
        var waiters: [Waiter] = []
        /// Ids handed out whose operation has not yet queued or been granted.
        var undecided: Set<UInt64> = []
        /// Undecided ids whose task was cancelled meanwhile.
        var cancelledBeforeWaiting: Set<UInt64> = []
        var nextID: UInt64 = 0
        var nextStart: ContinuousClock.Instant
    }

    private let state: Locked<State>
    private let spacing: Duration?

    init(limit: Int, requestsPerSecond: Double?) {
        state = Locked(State(available: limit, nextStart: .now))
        spacing = requestsPerSecond.map { Duration.nanoseconds(Int64((1e9 / $0).rounded(.up))) }
    }

    /// Runs `body` holding a permit, once the rate allows; `nil` without
    /// running it when the task was cancelled while waiting.
    func run<T: Sendable>(_ body: () async -> T) async -> T? {
        guard await acquire() else { return nil }
        defer { release() }
        if let spacing {
            let start = state.withLock { state in
                let start = max(ContinuousClock.now, state.nextStart)
                state.nextStart = start + spacing
                return start
            }
            do {
                try await Task.sleep(until: start, clock: .continuous)
            } catch {
                return nil
            }
        }
        return await body()
    }

    /// Requests currently waiting for a permit: for tests and metrics.
    var waiting: Int { state.withLock { $0.waiters.count } }

    private func acquire() async -> Bool {
        let id = state.withLock { state in
            state.nextID += 1
            state.undecided.insert(state.nextID)
            return state.nextID
        }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
                let granted: Bool? = state.withLock { state in
                    state.undecided.remove(id)
                    if state.cancelledBeforeWaiting.remove(id) != nil { return false }
                    if state.available > 0 {
                        state.available -= 1
                        return true
                    }
                    state.waiters.append(Waiter(id: id, continuation: continuation))
                    return nil
                }
                if let granted { continuation.resume(returning: granted) }
            }
        } onCancel: {
            let waiter: Waiter? = state.withLock { state in
                if let index = state.waiters.firstIndex(where: { $0.id == id }) {
                    return state.waiters.remove(at: index)
                }
                // Not queued yet: leave a mark the operation consumes. Once
                // granted, cancellation is the body's business.
                if state.undecided.contains(id) { state.cancelledBeforeWaiting.insert(id) }
                return nil
            }
            waiter?.continuation.resume(returning: false)
        }
    }

    private func release() {
        // The permit passes straight to the first waiter, so a newcomer
        // cannot overtake the queue.
        let next: Waiter? = state.withLock { state in
            if state.waiters.isEmpty {
                state.available += 1
                return nil
            }
            return state.waiters.removeFirst()
        }
        next?.continuation.resume(returning: true)
    }
}
