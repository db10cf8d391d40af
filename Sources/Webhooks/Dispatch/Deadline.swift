import Locking

/// Waits for a duration, throwing when cancelled, as `Task.sleep(for:)` does.
typealias DeadlineSleep = @Sendable (Duration) async throws -> Void

/// How an operation run against a deadline ended.
enum DeadlineOutcome<Value: Sendable>: Sendable {
    case finished(Value)
    case failed(any Error)
    case timedOut
}

/// Runs `operation` in its own task and returns when it ends or when `limit`
/// passes, whichever is first. On time-out the task is cancelled but not
/// awaited: an answer must not wait for code that ignores cancellation.
///
/// `sleep` waits out the limit; tests pass one they control, to see the
/// limit asked for and to end it without waiting.
func withDeadline<Value: Sendable>(
    _ limit: Duration, sleep: @escaping DeadlineSleep = { try await Task.sleep(for: $0) },
    _ operation: @escaping @Sendable () async throws -> Value
) async -> DeadlineOutcome<Value> {
    await withCheckedContinuation { continuation in
        let race = DeadlineRace(continuation)
        let timer = Task {
            do { try await sleep(limit) } catch { return }
            if race.resume(.timedOut) { race.cancelWork() }
        }
        race.setWork(
            Task {
                let outcome: DeadlineOutcome<Value>
                do { outcome = .finished(try await operation()) } catch { outcome = .failed(error) }
                if race.resume(outcome) { timer.cancel() }
            })
    }
}

/// Whichever of the operation and the timer ends first resumes the caller.
private final class DeadlineRace<Value: Sendable>: Sendable {
    private struct State {
        var continuation: CheckedContinuation<DeadlineOutcome<Value>, Never>?
        var work: Task<Void, Never>?
        var timedOut = false
    }
    private let state: Locked<State>

    init(_ continuation: CheckedContinuation<DeadlineOutcome<Value>, Never>) {
        state = Locked(State(continuation: continuation))
    }

    /// Resumes the caller unless someone did already; returns whether it did.
    func resume(_ outcome: DeadlineOutcome<Value>) -> Bool {
        let continuation = state.withLock { state in
            defer { state.continuation = nil }
            if case .timedOut = outcome { state.timedOut = state.continuation != nil }
            return state.continuation
        }
        continuation?.resume(returning: outcome)
        return continuation != nil
    }

    func setWork(_ work: Task<Void, Never>) {
        let cancelNow = state.withLock { state in
            state.work = work
            return state.timedOut
        }
        if cancelNow { work.cancel() }
    }

    func cancelWork() {
        state.withLock { $0.work }?.cancel()
    }
}
