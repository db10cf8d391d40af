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
/// A thread that finds it taken spins a while before sleeping in the
/// kernel (``SpinningMutex``): the locks here are held for microseconds,
/// and a sleep and wake-up cost more than that.
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
        SpinningMutex.initialize(mutex)
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
        SpinningMutex.lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body(&value.pointee)
    }
}
