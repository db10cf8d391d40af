import Durations
import Glibc
import Locking

/// Calls back when a time limit has passed, unless told first that it no
/// longer matters: what ``withDeadline(_:timer:_:)`` waits out a limit with.
package protocol DeadlineTimer: Sendable {
    /// Calls `expire` once, when `limit` has passed; never if `alarm` is
    /// cancelled before. `expire` runs on the timer's own thread: keep it short.
    func schedule(after limit: Duration, _ expire: @escaping @Sendable () -> Void) -> DeadlineAlarm
}

/// A scheduled call of a ``DeadlineTimer``; cancelling it forgets the call.
///
/// Not final: ``DeadlineThread``'s queue entries are alarms themselves, so
/// that scheduling allocates one object, not an entry, an alarm and the
/// closure that cancels the entry (every handler attempt schedules one).
package class DeadlineAlarm: @unchecked Sendable {  // immutable; subclasses guard their own state
    private let onCancel: (@Sendable (DeadlineAlarm) -> Void)?

    package init(onCancel: @escaping @Sendable (DeadlineAlarm) -> Void) { self.onCancel = onCancel }

    /// For a subclass that overrides ``cancel()``.
    init() { onCancel = nil }

    /// Forgets the call if it has not been made; harmless afterwards.
    package func cancel() { onCancel?(self) }
}

/// The process's deadline timer: one thread, asleep until the earliest
/// limit, that fires every expiry.
///
/// Why not a sleeping child task per deadline, as `Task.sleep` offers: every
/// handler attempt has a deadline, and a task group, a child task and a
/// libdispatch timer per attempt cost more than the rest of the attempt's
/// bookkeeping (callgrind, BENCHMARKS.md). Here a deadline is an entry in a
/// queue, and a cancelled one is dropped at once.
///
/// Why queues and not a heap: deadlines of one limit are scheduled in
/// nondecreasing order of expiry (the clock only moves forward), so each
/// limit gets a first-in-first-out queue, and the earliest expiry is at the
/// head of one of a few queues (the handler timeout, the risk-control
/// deadline, the database's operation timeout).
package final class DeadlineThread: DeadlineTimer, @unchecked Sendable {
    /// The one every caller shares unless it brings its own.
    package static let shared = DeadlineThread()

    /// A deadline, and the alarm that cancels it.
    private final class Entry: DeadlineAlarm, @unchecked Sendable {
        let expiry: UInt64  // monotonic nanoseconds
        let limit: Int64  // the queue it sits in
        let timer: DeadlineThread
        // Guarded by the timer's mutex; nil once fired or cancelled.
        var expire: (@Sendable () -> Void)?
        init(expiry: UInt64, limit: Int64, timer: DeadlineThread, expire: @escaping @Sendable () -> Void) {
            self.expiry = expiry
            self.limit = limit
            self.timer = timer
            self.expire = expire
            super.init()
        }

        override func cancel() { timer.cancel(self) }
    }

    /// Entries in order of expiry; taken from the head.
    private struct Queue {
        var entries: [Entry] = []
        var head = 0
        var first: Entry? { head < entries.count ? entries[head] : nil }
        var isEmpty: Bool { head == entries.count }

        mutating func popFirst() {
            head += 1
            // Compacted once the dead half is large, so pops stay amortised O(1).
            if head == entries.count {
                entries.removeAll(keepingCapacity: true)
                head = 0
            } else if head >= 1024 && head * 2 >= entries.count {
                entries.removeFirst(head)
                head = 0
            }
        }
    }

    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let changed = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)

    /// Guarded by `mutex`. Behind a pointer, not stored properties: a
    /// class's stored `var` is checked for exclusive access at run time on
    /// every change (`swift_beginAccess`), which the mutex already
    /// guarantees (see `Locked`).
    private struct State {
        var queues: [Int64: Queue] = [:]
        var pending = 0
        var started = false
        /// When the thread means to wake up; `nil` while it waits for a first entry.
        var wakeAt: UInt64?
    }

    private let state = UnsafeMutablePointer<State>.allocate(capacity: 1)

    package init() {
        state.initialize(to: State())
        pthread_mutex_init(mutex, nil)
        var attributes = pthread_condattr_t()
        pthread_condattr_init(&attributes)
        // Waits measure the monotonic clock: setting the wall clock must not
        // move a deadline.
        pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC)
        pthread_cond_init(changed, &attributes)
        pthread_condattr_destroy(&attributes)
    }

    /// Deadlines scheduled and neither fired nor cancelled.
    package var pendingCount: Int { locked { state.pointee.pending } }

    /// Whether the thread sleeps until an expiry (rather than running, or
    /// waiting for a first deadline): tests wait for it to schedule past it.
    package var isWaitingForExpiry: Bool { locked { state.pointee.wakeAt != nil } }

    /// Entries the queues still hold, spent ones among them: what the
    /// deadlines cost in memory.
    package var queuedCount: Int {
        locked { state.pointee.queues.values.reduce(0) { $0 + $1.entries.count - $1.head } }
    }

    package func schedule(after limit: Duration, _ expire: @escaping @Sendable () -> Void) -> DeadlineAlarm {
        let nanoseconds = max(0, limit.wholeNanoseconds)
        let entry = Entry(expiry: Self.now() &+ UInt64(nanoseconds), limit: nanoseconds, timer: self, expire: expire)
        locked {
            state.pointee.queues[nanoseconds, default: Queue()].entries.append(entry)
            state.pointee.pending += 1
            if !state.pointee.started {
                // Started by the first deadline; it runs for the rest of the
                // process, keeping its timer (tests make a few of their own).
                state.pointee.started = true
                do { try startThread(name: "deadlines", detached: true) { [self] in run() } } catch {
                    preconditionFailure("no deadline can be kept: \(error)")
                }
            }
            // The thread sleeps past this expiry, or waits for a first entry.
            if state.pointee.wakeAt.map({ entry.expiry < $0 }) ?? true { pthread_cond_signal(changed) }
        }
        return entry
    }

    private func cancel(_ entry: Entry) {
        locked {
            guard entry.expire != nil else { return }
            entry.expire = nil
            state.pointee.pending -= 1
            dropSpent(limit: entry.limit)
        }
    }

    /// Pops fired and cancelled entries off the head of a queue, and the
    /// queue itself once empty, so that nothing cancelled stays behind
    /// longer than the oldest live deadline of its limit.
    private func dropSpent(limit: Int64) {
        // In place: taking the queue out and putting it back hashed the
        // limit twice and rebuilt the dictionary's entry on every cancel.
        guard let index = state.pointee.queues.index(forKey: limit) else { return }
        while let first = state.pointee.queues.values[index].first, first.expire == nil {
            state.pointee.queues.values[index].popFirst()
        }
        if state.pointee.queues.values[index].isEmpty { state.pointee.queues.remove(at: index) }
    }

    private func run() {
        pthread_mutex_lock(mutex)
        while true {
            let now = Self.now()
            var due: [(expiry: UInt64, expire: @Sendable () -> Void)] = []
            var earliest: UInt64?
            for limit in Array(state.pointee.queues.keys) {
                guard var queue = state.pointee.queues.removeValue(forKey: limit) else { continue }
                while let first = queue.first, first.expire == nil || first.expiry <= now {
                    if let expire = first.expire {
                        due.append((first.expiry, expire))
                        first.expire = nil
                        state.pointee.pending -= 1
                    }
                    queue.popFirst()
                }
                if let first = queue.first {
                    earliest = min(earliest ?? first.expiry, first.expiry)
                    state.pointee.queues[limit] = queue
                }
            }
            if !due.isEmpty {
                // Outside the lock: an expiry may schedule or cancel.
                pthread_mutex_unlock(mutex)
                // In order of expiry across limits, as they fell due.
                for (_, expire) in due.sorted(by: { $0.expiry < $1.expiry }) { expire() }
                pthread_mutex_lock(mutex)
                continue
            }
            state.pointee.wakeAt = earliest
            if let earliest {
                wait(until: earliest)
            } else {
                pthread_cond_wait(changed, mutex)
            }
        }
    }

    private func wait(until expiry: UInt64) {
        var time = timespec(tv_sec: Int(expiry / 1_000_000_000), tv_nsec: Int(expiry % 1_000_000_000))
        _ = pthread_cond_timedwait(changed, mutex, &time)
    }

    private func locked<T>(_ body: () -> T) -> T {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return body()
    }

    private static func now() -> UInt64 { monotonicNanoseconds() }
}

/// CLOCK_MONOTONIC in nanoseconds. A plain integer to keep in a struct on a
/// hot path: `ContinuousClock.Instant`'s layout is resilient, so every copy
/// and destruction of a struct holding one is a value-witness call (a
/// queue item with one cost ~5,000 instructions per callback to move,
/// callgrind, BENCHMARKS.md session 22).
public func monotonicNanoseconds() -> UInt64 {
    var time = timespec()
    clock_gettime(CLOCK_MONOTONIC, &time)
    return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
}
