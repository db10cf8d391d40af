#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A value only reachable while holding its lock: `Synchronization.Mutex`'s
/// shape, on a pthread mutex.
///
/// Why not `Mutex`: on Linux its lock is futex code inside the toolchain's
/// uninstrumented Synchronization library, so ThreadSanitizer never sees it
/// taken and reports every access it guards as a race. TSan intercepts
/// pthread mutexes, so a race it reports here is a real one.
///
/// On Linux the mutex is glibc's adaptive kind: a thread that finds it
/// taken spins briefly before sleeping in the kernel. The locks here are
/// held for microseconds (the memory inbox's, which both event loops and
/// the handler threads take on every callback), so a short spin usually
/// gets the lock without the futex sleep and wake-up: 12% less CPU per
/// memory-path callback and half the context switches (BENCHMARKS.md,
/// session 10).
///
/// ```swift
/// let counts = Locked([String: Int]())
/// counts.withLock { $0["a", default: 0] += 1 }
/// ```
package final class Locked<Value>: @unchecked Sendable {
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private var value: Value

    package init(_ value: Value) {
        self.value = value
        #if canImport(Glibc)
        var attributes = pthread_mutexattr_t()
        pthread_mutexattr_init(&attributes)
        pthread_mutexattr_settype(&attributes, 3)  // PTHREAD_MUTEX_ADAPTIVE_NP, hidden behind _GNU_SOURCE
        pthread_mutex_init(mutex, &attributes)
        pthread_mutexattr_destroy(&attributes)
        #else
        pthread_mutex_init(mutex, nil)
        #endif
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    /// Runs `body` with the value, holding the lock. Keep it short and
    /// never suspend or block inside.
    package func withLock<Result, Failure: Error>(
        _ body: (inout Value) throws(Failure) -> Result
    ) throws(Failure) -> Result {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body(&value)
    }
}
