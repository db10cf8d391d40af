#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Holds back the wake-ups of threads blocked on `BlockingQueue`s while the
/// calling thread hands out a burst of jobs, and sends them once the burst
/// is over: one per job, at most one per sleeping thread.
///
/// The SQLite writer resumes every caller of a group commit in one go (40
/// or so), and each resume queues a job on the handler executor. Woken
/// one push at a time, a handler thread took the job, ran it and went back
/// to sleep before the next push woke it again: a futex wake and a context
/// switch per caller, about a tenth of the writer's time (perf, session 11).
package enum DeferredWakes {
    final class Pending {
        /// The queues pushed to in this burst, in order, with their job counts.
        private(set) var queues: [(queue: any WakeableQueue, jobs: Int)] = []

        func note(_ queue: any WakeableQueue) {
            if let index = queues.firstIndex(where: { $0.queue === queue }) {
                queues[index].jobs += 1
            } else {
                queues.append((queue, 1))
            }
        }
    }

    private static let key: pthread_key_t = {
        var key = pthread_key_t()
        precondition(pthread_key_create(&key, nil) == 0, "pthread_key_create failed")
        return key
    }()

    /// Runs `body`; pushes it makes to any `BlockingQueue` wake no thread
    /// until it returns (or throws). Nested calls send their own at their end.
    package static func during<T, E: Error>(_ body: () throws(E) -> T) throws(E) -> T {
        let pending = Pending()
        let outer = pthread_getspecific(key)
        pthread_setspecific(key, Unmanaged.passUnretained(pending).toOpaque())
        defer {
            pthread_setspecific(key, outer)
            for (queue, jobs) in pending.queues { queue.wake(upTo: jobs) }
        }
        return try withExtendedLifetime(pending) { () throws(E) -> T in try body() }
    }

    /// The calling thread's burst, if it is in one.
    static var current: Pending? {
        pthread_getspecific(key).map { Unmanaged<Pending>.fromOpaque($0).takeUnretainedValue() }
    }
}

/// A queue whose sleeping threads can be woken for jobs pushed without a wake-up.
package protocol WakeableQueue: AnyObject {
    func wake(upTo count: Int)
}
