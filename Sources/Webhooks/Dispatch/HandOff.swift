import Deadlines
import Durations
import Inbox
import Locking

/// After-store events this process recorded already leased to its own
/// workers, on their way from the request to a worker: the store is written
/// once per callback (the record), not three times (record, claim,
/// completion), and the worker runs the callback the request decoded.
///
/// Bounded and never waited on: a request reserves a place before it asks
/// the store for the lease (``reserve(now:)``), so that a lease the store
/// grants always finds room. When the queue is full, its oldest event has
/// waited `maxWait` (slow handlers: a later one would start too late in its
/// lease), or no worker runs (before ``open()``, after ``close()``), the
/// request records the event pending as before and a worker claims it:
/// back-pressure costs a claim, never an event.
///
/// On graceful shutdown the workers run what was handed over (see
/// ``DispatchWorkers/run()``); whatever a killed process leaves here is
/// leased in the store and runs again once the lease ends, or at once after
/// a restart that releases the process's leases (SQLite's owner at start,
/// PostgreSQL's replica name).
final class HandOff: Sendable {
    struct Item: Sendable {
        let event: InboxEvent
        let decoded: DecodedCallback
    }

    private struct Queued {
        let item: Item
        /// ``monotonicNanoseconds()`` when it was queued.
        let since: UInt64
    }

    private struct State {
        /// Queued items from `head` on; taken ones are `nil` (moved out).
        var items: [Queued?] = []
        var head = 0
        /// Places reserved by requests whose record is under way.
        var reserved = 0
        var open = false

        var queued: Int { items.count - head }
        /// Items kept, taken ones not yet compacted away included (for tests).
        var kept: Int { items.count }
    }

    private let state = Locked(State())
    let capacity: Int
    /// How long the oldest queued event may have waited for a new one to
    /// join it, in nanoseconds.
    let maxWait: UInt64
    /// Room a new queue buffer starts with: a worker's batch, about.
    private static let initialRoom = 16
    /// Woken when an item arrives or a reservation ends.
    private let wakeUps: Waiters<Int>
    private let wakeKey: Int

    init(capacity: Int, maxWait: Duration = .seconds(3600), wakeUps: Waiters<Int>, wakeKey: Int) {
        self.capacity = max(1, capacity)
        self.maxWait = UInt64(clamping: maxWait.wholeNanoseconds)
        self.wakeUps = wakeUps
        self.wakeKey = wakeKey
    }

    /// The workers run: requests may hand events over.
    func open() { state.withLock { $0.open = true } }

    /// The workers stop: no new reservations. Items and reservations under
    /// way stay until taken or ended.
    func close() { state.withLock { $0.open = false } }

    /// Reserves a place for one event; false when the queue is full, its
    /// oldest event has waited `maxWait`, or it is closed.
    /// `now`: ``monotonicNanoseconds()``.
    func reserve(now: UInt64 = monotonicNanoseconds()) -> Bool {
        state.withLock { state in
            guard state.open, state.queued + state.reserved < capacity else { return false }
            if state.head < state.items.count, let oldest = state.items[state.head], now &- oldest.since >= maxWait {
                return false
            }
            state.reserved += 1
            return true
        }
    }

    /// Fills a reserved place. The item is moved into the queue, not
    /// copied (a copy retains every string of the event and the decoded
    /// callback, and the caller's release frees them again).
    func deliver(_ item: consuming Item, now: UInt64 = monotonicNanoseconds()) {
        var queued = Optional(Queued(item: item, since: now))
        state.withLock { state in
            state.reserved -= 1
            state.items.append(queued.take()!)
        }
        wakeUps.notifyOne(wakeKey)  // one event, one worker
    }

    /// Gives a reserved place back (the event was not leased, or not recorded).
    func release() {
        let closed = state.withLock { state in
            state.reserved -= 1
            return !state.open
        }
        // Only a drain waits for reservations to end; a running worker needs no wake-up for one.
        if closed { wakeUps.notify(wakeKey) }
    }

    /// Up to `limit` items, oldest first.
    func take(upTo limit: Int) -> [Item] {
        state.withLock { state in
            let end = min(state.items.count, state.head + max(0, limit))
            // Moved out of the queue, not copied: a copy retained every
            // reference of each item (the event's strings, the decoded
            // callback's fields) and clearing its place released them all
            // again, ~5,000 instructions a callback (callgrind, BENCHMARKS.md
            // session 11). A taken place is left `nil`.
            var taken: [Item] = []
            taken.reserveCapacity(end - state.head)
            for index in state.head..<end {
                var queued: Queued? = nil
                swap(&queued, &state.items[index])
                taken.append(queued!.item)
            }
            state.head = end
            // Compacted when empty, and once the taken part outgrows the
            // bound: under sustained load the queue may never empty, and the
            // taken places must not pile up behind `head`.
            if state.head == state.items.count {
                state.items.removeAll(keepingCapacity: true)
                state.head = 0
            } else if state.head >= capacity {
                state.items.removeFirst(state.head)
                state.head = 0
            }
            return taken
        }
    }

    /// Items the queue's storage holds (for tests): never more than twice
    /// the capacity.
    var storedCount: Int { state.withLock { $0.kept } }

    /// Nothing queued and no record under way that could add an item.
    var isSettled: Bool { state.withLock { $0.queued == 0 && $0.reserved == 0 } }
}
