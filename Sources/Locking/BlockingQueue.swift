#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A FIFO that threads outside Swift concurrency block on (a POSIX mutex
/// and condition variable): the handler executor's jobs and the SQLite
/// connection threads' requests. Pops are amortised O(1).
package final class BlockingQueue<Job>: WakeableQueue, @unchecked Sendable {
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let nonEmpty = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)

    /// Guarded by `mutex`. Behind a pointer, not stored properties: a
    /// class's stored `var` is checked for exclusive access at run time on
    /// every change (`swift_beginAccess`), which the mutex already
    /// guarantees (see `Locked`).
    private struct State {
        var jobs: [Job] = []
        var head = 0
        var closed = false
        /// Threads in `pthread_cond_wait`, so that `wake(upTo:)` signals no
        /// more than it can wake.
        var sleepers = 0
        var signals = 0
    }

    private let state = UnsafeMutablePointer<State>.allocate(capacity: 1)

    package init() {
        state.initialize(to: State())
        SpinningMutex.initialize(mutex)
        pthread_cond_init(nonEmpty, nil)
    }

    deinit {
        pthread_cond_destroy(nonEmpty)
        pthread_mutex_destroy(mutex)
        nonEmpty.deallocate()
        mutex.deallocate()
        state.deinitialize(count: 1)
        state.deallocate()
    }

    /// Appends `job`; false, leaving it out, once the queue is closed.
    /// With `wakingAThread` false no waiting thread is woken: the caller
    /// batches wake-ups for many pushes with ``wake(upTo:)``, and until then
    /// the job waits unless a thread comes by for another. Inside
    /// ``DeferredWakes/during(_:)`` the wake-up waits for the burst's end.
    @discardableResult
    package func push(_ job: Job, wakingAThread: Bool = true) -> Bool {
        let burst = wakingAThread ? DeferredWakes.current : nil
        SpinningMutex.lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        guard !state.pointee.closed else { return false }
        state.pointee.jobs.append(job)
        if let burst {
            burst.note(self)
        } else if wakingAThread && state.pointee.sleepers > 0 {
            signal()
        }
        return true
    }

    /// Wakes as many waiting threads as there are jobs, up to `count`.
    package func wake(upTo count: Int) {
        SpinningMutex.lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        let wakes = min(count, state.pointee.sleepers, state.pointee.jobs.count - state.pointee.head)
        if wakes == state.pointee.sleepers && wakes > 1 {
            state.pointee.signals += 1
            pthread_cond_broadcast(nonEmpty)
        } else {
            for _ in 0..<max(0, wakes) { signal() }
        }
    }

    /// Signals the condition (the mutex held), counted for tests.
    private func signal() {
        state.pointee.signals += 1
        pthread_cond_signal(nonEmpty)
    }

    /// Signals and broadcasts sent to waiting threads so far (for tests).
    package var wakeUps: Int {
        SpinningMutex.lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return state.pointee.signals
    }

    /// Waits for a job and takes the oldest; nil once closed and empty.
    package func take() -> Job? {
        SpinningMutex.lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        waitForJobs()
        guard state.pointee.head < state.pointee.jobs.count else { return nil }
        let job = state.pointee.jobs[state.pointee.head]
        advance(to: state.pointee.head + 1)
        return job
    }

    /// Waits for jobs, then takes up to `limit` of them, oldest first; nil
    /// once the queue is closed and empty.
    package func take(upTo limit: Int) -> [Job]? {
        SpinningMutex.lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        waitForJobs()
        guard state.pointee.head < state.pointee.jobs.count else { return nil }
        let end = min(state.pointee.jobs.count, state.pointee.head + limit)
        let taken = state.pointee.jobs.freshCopy(of: state.pointee.head..<end)
        advance(to: end)
        return taken
    }

    package var count: Int {
        SpinningMutex.lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return state.pointee.jobs.count - state.pointee.head
    }

    /// Threads waiting for a job (for tests).
    package var sleepingCount: Int {
        SpinningMutex.lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return state.pointee.sleepers
    }

    package var isClosed: Bool {
        SpinningMutex.lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return state.pointee.closed
    }

    /// Refuses further jobs and wakes every waiting thread; queued jobs are
    /// still taken.
    package func close() {
        SpinningMutex.lock(mutex)
        state.pointee.closed = true
        pthread_cond_broadcast(nonEmpty)
        pthread_mutex_unlock(mutex)
    }

    private func waitForJobs() {
        while state.pointee.head == state.pointee.jobs.count && !state.pointee.closed {
            state.pointee.sleepers += 1
            pthread_cond_wait(nonEmpty, mutex)
            state.pointee.sleepers -= 1
        }
    }

    /// Drops what was taken: all at once when the queue empties, else in
    /// one move once the taken part is half the array.
    private func advance(to newHead: Int) {
        state.pointee.head = newHead
        if state.pointee.head == state.pointee.jobs.count {
            state.pointee.jobs.removeAll(keepingCapacity: true)
            state.pointee.head = 0
        } else if state.pointee.head >= 1024 && state.pointee.head * 2 >= state.pointee.jobs.count {
            state.pointee.jobs.removeFirst(state.pointee.head)
            state.pointee.head = 0
        }
    }
}
