import Locking

/// Thrown by ``DeadlineOutcome/get()`` when the operation did not finish
/// within its time limit.
package struct DeadlineExceeded: Error, CustomStringConvertible {
    package let limit: Duration
    package init(limit: Duration) { self.limit = limit }
    package var description: String { "no answer within \(limit)" }
}

/// How an operation run against a deadline ended.
package enum DeadlineOutcome<Value: Sendable>: Sendable {
    case finished(Value)
    /// It threw; also when the caller was cancelled first (`CancellationError`).
    case failed(any Error)
    case timedOut(Duration)

    /// The value, or the error: ``DeadlineExceeded`` for a time-out.
    package func get() throws -> Value {
        switch self {
        case .finished(let value): return value
        case .failed(let error): throw error
        case .timedOut(let limit): throw DeadlineExceeded(limit: limit)
        }
    }
}

/// Runs `operation` and returns how it ended, or `.timedOut` once `limit`
/// has passed, whether or not the operation noticed.
///
/// The contract: the caller always has its answer by the deadline. An
/// answer owed to TrustPay (a risk-control `503`, a store call on a
/// connection that silently stopped answering) cannot wait for code that
/// ignores cancellation, so at the deadline, or when the caller is
/// cancelled, the operation is cancelled and *abandoned*: it runs on until
/// it notices, and its result is dropped.
///
/// That is why the operation is the one unstructured task here (a child
/// task could not outlive the call). It keeps the caller's executor: when
/// the caller runs on an executor that registered its threads with
/// ``ExecutorThreads`` (the HTTP server's handler executor), so does the
/// operation, abandoned or not, never Swift's cooperative pool. The limit
/// is kept by `timer` (the process's ``DeadlineThread`` unless a test
/// brings one it controls), not by a task: a deadline on every handler
/// attempt must cost little.
package func withDeadline<Value: Sendable>(
    _ limit: Duration, timer: any DeadlineTimer = DeadlineThread.shared,
    _ operation: @escaping @Sendable () async throws -> Value
) async -> DeadlineOutcome<Value> {
    await race(operation, against: limit, timer: timer)
}

/// ``withDeadline(_:timer:_:)`` for an operation that returns nothing, as
/// every handler attempt is: specialized in this module, where the generic
/// one, called from another module, looked up the generic metadata of the
/// outcome, the race and its continuation at run time on every attempt
/// (callgrind, BENCHMARKS.md session 9).
package func withDeadline(
    _ limit: Duration, timer: any DeadlineTimer = DeadlineThread.shared,
    _ operation: @escaping @Sendable () async throws -> Void
) async -> DeadlineOutcome<Void> {
    await race(operation, against: limit, timer: timer)
}

private func race<Value: Sendable>(
    _ operation: @escaping @Sendable () async throws -> Value, against limit: Duration, timer: any DeadlineTimer
) async -> DeadlineOutcome<Value> {
    let race = DeadlineRace<Value>()
    let work = Task(executorPreference: ExecutorThreads.current) {
        do { race.finish(.finished(try await operation())) } catch { race.finish(.failed(error)) }
    }
    let alarm = timer.schedule(after: limit) { race.finish(.timedOut(limit)) }
    let outcome = await withTaskCancellationHandler {
        await race.outcome()
    } onCancel: {
        race.finish(.failed(CancellationError()))
    }
    alarm.cancel()
    work.cancel()  // a finished task ignores it; anything else is abandoned now
    return outcome
}

/// The first of the operation, the timer and the caller's cancellation to
/// end, handed to the one waiting caller.
///
/// Its continuation is resumed exactly once by construction (the state
/// moves from `waiting` to `done` under the lock), so it is an unsafe one:
/// a checked continuation allocates a guard object per attempt.
private final class DeadlineRace<Value: Sendable>: Sendable {
    private enum State {
        case open
        case waiting(UnsafeContinuation<DeadlineOutcome<Value>, Never>)
        case decided(DeadlineOutcome<Value>)
        case done
    }

    private let state = Locked(State.open)

    func outcome() async -> DeadlineOutcome<Value> {
        await withUnsafeContinuation { continuation in
            let decided: DeadlineOutcome<Value>? = state.withLock { state in
                switch state {
                case .open:
                    state = .waiting(continuation)
                    return nil
                case .decided(let outcome):
                    state = .done
                    return outcome
                case .waiting, .done:
                    preconditionFailure("a deadline race is waited for once")
                }
            }
            if let decided { continuation.resume(returning: decided) }
        }
    }

    func finish(_ outcome: DeadlineOutcome<Value>) {
        let waiting: UnsafeContinuation<DeadlineOutcome<Value>, Never>? = state.withLock { state in
            switch state {
            case .open:
                state = .decided(outcome)
                return nil
            case .waiting(let continuation):
                state = .done
                return continuation
            case .decided, .done:
                return nil
            }
        }
        waiting?.resume(returning: outcome)
    }
}
