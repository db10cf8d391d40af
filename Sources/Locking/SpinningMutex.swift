#if canImport(Glibc)
import CLinuxSys
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// How this module's pthread mutexes are set up and taken (``Locked``,
/// ``BlockingQueue``): a waiter spins a while for a lock another thread
/// holds before it sleeps in the kernel.
///
/// The locks here are held for microseconds, by both event loops and both
/// handler threads on every callback (the memory inbox's, the hand-off's,
/// the handler executor's queue). A waiter that sleeps is woken by the
/// holder's unlock, and both pay a context switch: on two cores shared
/// with the load, that was most of what contention cost. glibc's adaptive
/// mutex (the kind used here) spins about a hundred times at most, often
/// shorter than the memory inbox's critical section, whose tables are too
/// large for the cache; the spin below waits about 25 µs more. Under `wrk`
/// on the memory path: context switches per callback 0.52–0.59 to
/// 0.38–0.40, p99 7.0–7.9 to 5.2–5.5 ms (BENCHMARKS.md, session 15). A
/// holder preempted meanwhile costs at most the spin before the sleep.
enum SpinningMutex {
    /// Tries before sleeping; a `pause` and a try take ~50 ns on the
    /// machines measured.
    static var spins: Int { 500 }

    static func initialize(_ mutex: UnsafeMutablePointer<pthread_mutex_t>) {
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

    @inline(__always)
    static func lock(_ mutex: UnsafeMutablePointer<pthread_mutex_t>) {
        if pthread_mutex_trylock(mutex) != 0 { lockContended(mutex) }
    }

    @inline(never)
    private static func lockContended(_ mutex: UnsafeMutablePointer<pthread_mutex_t>) {
        #if canImport(Glibc)
        for _ in 0..<spins {
            cpu_relax()
            if pthread_mutex_trylock(mutex) == 0 { return }
        }
        #endif
        pthread_mutex_lock(mutex)
    }
}
