#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Which task executor owns the calling thread, for executors whose threads
/// run nothing else (the HTTP server's handler executor).
///
/// Swift does not let code read its task's executor preference, and an
/// unstructured `Task` does not inherit it; a task that must outlive its
/// caller (``withDeadline(_:timer:_:)``'s abandoned operation) asks the
/// thread it was called on instead. A thread of such an executor only runs
/// jobs of tasks that prefer it, so the answer is the caller's preference.
package enum ExecutorThreads {
    private final class Entry {
        let executor: any TaskExecutor
        init(_ executor: any TaskExecutor) { self.executor = executor }
    }

    private static let key: pthread_key_t = {
        var key = pthread_key_t()
        precondition(pthread_key_create(&key, nil) == 0, "pthread_key_create failed")
        return key
    }()

    /// Marks the calling thread as one of `executor`'s, for its whole life
    /// (the executor's threads never end).
    package static func register(_ executor: any TaskExecutor) {
        pthread_setspecific(key, Unmanaged.passRetained(Entry(executor)).toOpaque())
    }

    /// The executor the calling thread belongs to; nil on any other thread
    /// (Swift's cooperative pool among them).
    package static var current: (any TaskExecutor)? {
        guard let raw = pthread_getspecific(key) else { return nil }
        return Unmanaged<Entry>.fromOpaque(raw).takeUnretainedValue().executor
    }
}
