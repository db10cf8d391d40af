import Locking

/// What a worker's supervisor hears from its runners (see ``WorkerShift``):
/// a runner's loop ended, or one of its attempts overran the handler
/// timeout. Rare by design, so one lock and one waiting task.
final class ShiftSupervisor: Sendable {
    enum Signal: Sendable {
        /// The runner of this shift returned from its loop.
        case ended(WorkerShift)
        /// This attempt of this shift passed the handler timeout; it is the
        /// supervisor's to record.
        case overran(WorkerShift.Attempt, WorkerShift)
        /// The supervisor's task was cancelled.
        case cancelled
    }

    private struct State {
        var signals: [Signal] = []
        var waiting: UnsafeContinuation<Signal, Never>?
        var cancelled = false
    }

    private let state = Locked(State())

    /// From a runner or the deadline thread.
    func post(_ signal: Signal) {
        let waiting = state.withLock { state in
            guard let waiting = state.waiting else {
                state.signals.append(signal)
                return UnsafeContinuation<Signal, Never>?.none
            }
            state.waiting = nil
            return waiting
        }
        waiting?.resume(returning: signal)
    }

    /// The next signal, oldest first; `.cancelled` once the calling task is
    /// cancelled, before any other.
    func next() async -> Signal {
        await withTaskCancellationHandler {
            // Resumed exactly once: `post` and `cancel` take it out under the lock.
            await withUnsafeContinuation { continuation in
                let ready: Signal? = state.withLock { state in
                    if state.cancelled { return .cancelled }
                    if !state.signals.isEmpty { return state.signals.removeFirst() }
                    state.waiting = continuation
                    return nil
                }
                if let ready { continuation.resume(returning: ready) }
            }
        } onCancel: {
            let waiting = state.withLock { state in
                state.cancelled = true
                defer { state.waiting = nil }
                return state.waiting
            }
            waiting?.resume(returning: .cancelled)
        }
    }
}
