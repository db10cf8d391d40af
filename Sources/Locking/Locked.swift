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
    /// The mutex, then the value, in one allocation reached through
    /// pointers. A class's stored `var` passed `inout` is checked for
    /// exclusive access at run time (`swift_beginAccess`, with a
    /// thread-local look-up, on every `withLock`), which the mutex already
    /// guarantees; a pointer's pointee is not.
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let value: UnsafeMutablePointer<Value>

    package init(_ value: Value) {
        let valueOffset = Self.valueOffset
        let block = UnsafeMutableRawPointer.allocate(
            byteCount: valueOffset + MemoryLayout<Value>.size,
            alignment: max(MemoryLayout<pthread_mutex_t>.alignment, MemoryLayout<Value>.alignment))
        mutex = block.bindMemory(to: pthread_mutex_t.self, capacity: 1)
        self.value = (block + valueOffset).bindMemory(to: Value.self, capacity: 1)
        self.value.initialize(to: value)
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
        value.deinitialize(count: 1)
        pthread_mutex_destroy(mutex)
        UnsafeMutableRawPointer(mutex).deallocate()
    }

    /// Where the value starts in the block: after the mutex, aligned for `Value`.
    private static var valueOffset: Int {
        let alignment = MemoryLayout<Value>.alignment
        return (MemoryLayout<pthread_mutex_t>.size + alignment - 1) / alignment * alignment
    }

    /// Runs `body` with the value, holding the lock. Keep it short and
    /// never suspend or block inside.
    package func withLock<Result, Failure: Error>(
        _ body: (inout Value) throws(Failure) -> Result
    ) throws(Failure) -> Result {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body(&value.pointee)
    }
}
