#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A FIFO that threads outside Swift concurrency block on (a POSIX mutex
/// and condition variable): the handler executor's jobs and the SQLite
/// connection threads' requests. Pops are amortised O(1).
package final class BlockingQueue<Job>: @unchecked Sendable {
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let nonEmpty = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    // Guarded by `mutex`.
    private var jobs: [Job] = []
    private var head = 0
    private var closed = false

    package init() {
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(nonEmpty, nil)
    }

    deinit {
        pthread_cond_destroy(nonEmpty)
        pthread_mutex_destroy(mutex)
        nonEmpty.deallocate()
        mutex.deallocate()
    }

    /// Appends `job`; false, leaving it out, once the queue is closed.
    @discardableResult
    package func push(_ job: Job) -> Bool {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        guard !closed else { return false }
        jobs.append(job)
        pthread_cond_signal(nonEmpty)
        return true
    }

    /// Waits for a job and takes the oldest; nil once closed and empty.
    package func take() -> Job? {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        waitForJobs()
        guard head < jobs.count else { return nil }
        let job = jobs[head]
        advance(to: head + 1)
        return job
    }

    /// Waits for jobs, then takes up to `limit` of them, oldest first; nil
    /// once the queue is closed and empty.
    package func take(upTo limit: Int) -> [Job]? {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        waitForJobs()
        guard head < jobs.count else { return nil }
        let end = min(jobs.count, head + limit)
        let taken = Array(jobs[head..<end])
        advance(to: end)
        return taken
    }

    package var count: Int {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return jobs.count - head
    }

    package var isClosed: Bool {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return closed
    }

    /// Refuses further jobs and wakes every waiting thread; queued jobs are
    /// still taken.
    package func close() {
        pthread_mutex_lock(mutex)
        closed = true
        pthread_cond_broadcast(nonEmpty)
        pthread_mutex_unlock(mutex)
    }

    private func waitForJobs() {
        while head == jobs.count && !closed { pthread_cond_wait(nonEmpty, mutex) }
    }

    /// Drops what was taken: all at once when the queue empties, else in
    /// one move once the taken part is half the array.
    private func advance(to newHead: Int) {
        head = newHead
        if head == jobs.count {
            jobs.removeAll(keepingCapacity: true)
            head = 0
        } else if head >= 1024 && head * 2 >= jobs.count {
            jobs.removeFirst(head)
            head = 0
        }
    }
}
