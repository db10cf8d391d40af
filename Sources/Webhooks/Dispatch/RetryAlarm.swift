import Locking

/// When failed events fall due again, so that the workers are woken then
/// and not only at their next poll.
///
/// Whoever records a retry (a worker, or a request answering after its
/// handlers) only notes the time; the dispatch service's alarm task sleeps
/// until the earliest and wakes the workers: no task per retry.
final class RetryAlarm: Sendable {
    private let due = Locked<[ContinuousClock.Instant]>([])
    private let changed = Waiters<Int>(remembersUnheard: true)

    /// Notes a retry falling due after `delay`.
    func schedule(after delay: Duration) {
        let instant = ContinuousClock.now + delay
        let earliest = due.withLock { due in
            due.append(instant)
            return due.min() == instant
        }
        if earliest { changed.notify(0) }
    }

    /// Calls `wake` as each noted time passes, until cancelled.
    func run(wake: @Sendable () -> Void) async {
        while !Task.isCancelled {
            let now = ContinuousClock.now
            let (passed, next) = due.withLock { due in
                let count = due.count
                due.removeAll { $0 <= now }
                return (due.count < count, due.min())
            }
            if passed { wake() }
            // An hour without retries due: look again anyway, it costs nothing.
            await changed.wait(for: 0, timeout: next.map { now.duration(to: $0) } ?? .seconds(3600))
        }
    }
}
