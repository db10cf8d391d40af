import Locking

/// Thrown when an operation did not finish within its time limit.
struct DeadlineExceeded: Error {
    let limit: Duration
}

/// Runs `operation` and returns its result, or throws ``DeadlineExceeded``
/// once `limit` has passed, whether or not the operation noticed.
///
/// PostgresNIO stops waiting for a pooled connection when its task is
/// cancelled, but not for the answer to a query already sent: on a
/// connection that silently stopped answering, that answer could take as
/// long as TCP gives up. The operation therefore runs in a task of its own
/// that is cancelled and abandoned at the deadline, so that the caller (a
/// request TrustPay is waiting on) always gets an answer in time.
func withDeadline<Value: Sendable>(
    _ limit: Duration, _ operation: @escaping @Sendable () async throws -> Value
) async throws -> Value {
    let race = Race<Value>()
    let work = Task {
        do { race.finish(.success(try await operation())) } catch { race.finish(.failure(error)) }
    }
    let timer = Task {
        try await Task.sleep(for: limit)
        race.finish(.failure(DeadlineExceeded(limit: limit)))
        work.cancel()
    }
    defer { timer.cancel() }
    return try await withTaskCancellationHandler {
        try await withCheckedThrowingContinuation { race.wait($0) }
    } onCancel: {
        work.cancel()
        race.finish(.failure(CancellationError()))
    }
}

/// The first of several outcomes, handed to one waiting continuation.
private final class Race<Value: Sendable>: Sendable {
    private enum State {
        case open
        case waiting(CheckedContinuation<Value, any Error>)
        case decided(Result<Value, any Error>)
        case done
    }

    private let state = Locked(State.open)

    func wait(_ continuation: CheckedContinuation<Value, any Error>) {
        let decided: Result<Value, any Error>? = state.withLock { state in
            switch state {
            case .open:
                state = .waiting(continuation)
                return nil
            case .decided(let result):
                state = .done
                return result
            case .waiting, .done:
                preconditionFailure("a race is waited for once")
            }
        }
        if let decided { continuation.resume(with: decided) }
    }

    func finish(_ result: Result<Value, any Error>) {
        let waiting: CheckedContinuation<Value, any Error>? = state.withLock { state in
            switch state {
            case .open:
                state = .decided(result)
                return nil
            case .waiting(let continuation):
                state = .done
                return continuation
            case .decided, .done:
                return nil
            }
        }
        waiting?.resume(with: result)
    }
}
