/// Something with one deadline on an event loop: a connection's read or
/// write timeout, a paused listener's retry. Loop thread only.
protocol LoopTimer: AnyObject {
    /// Where the heap keeps this timer; `nil` when it is not scheduled.
    /// Only `TimerHeap` writes it.
    var timerSlot: Int? { get set }
    /// The deadline passed (monotonic ns `now`).
    func timerFired(now: UInt64)
}

/// Pending deadlines, earliest first: a binary min-heap whose elements know
/// their position, so moving or cancelling one costs O(log n) and the loop
/// sleeps exactly until the next deadline. Scanning every connection on a
/// fixed tick cost work proportional to the connections, idle or not, four
/// times a second.
struct TimerHeap {
    private var entries: [(deadline: UInt64, timer: any LoopTimer)] = []

    var isEmpty: Bool { entries.isEmpty }
    var count: Int { entries.count }
    var nextDeadline: UInt64? { entries.first?.deadline }

    /// Schedules `timer` at `deadline`, moving it if it was scheduled.
    mutating func schedule(_ timer: any LoopTimer, at deadline: UInt64) {
        if let slot = timer.timerSlot {
            let earlier = deadline < entries[slot].deadline
            entries[slot].deadline = deadline
            if earlier { siftUp(slot) } else { siftDown(slot) }
        } else {
            entries.append((deadline, timer))
            timer.timerSlot = entries.count - 1
            siftUp(entries.count - 1)
        }
    }

    mutating func cancel(_ timer: any LoopTimer) {
        guard let slot = timer.timerSlot else { return }
        timer.timerSlot = nil
        let last = entries.count - 1
        if slot != last {
            entries[slot] = entries[last]
            entries[slot].timer.timerSlot = slot
        }
        entries.removeLast()
        if slot < entries.count {
            siftUp(slot)
            siftDown(entries[slot].timer.timerSlot!)
        }
    }

    /// Removes and returns the earliest timer if its deadline is `now` or past.
    mutating func popExpired(now: UInt64) -> (any LoopTimer)? {
        guard let first = entries.first, first.deadline <= now else { return nil }
        cancel(first.timer)
        return first.timer
    }

    private mutating func siftUp(_ start: Int) {
        var child = start
        while child > 0 {
            let parent = (child - 1) / 2
            guard entries[child].deadline < entries[parent].deadline else { break }
            swapAt(child, parent)
            child = parent
        }
    }

    private mutating func siftDown(_ start: Int) {
        var parent = start
        while true {
            let left = 2 * parent + 1
            guard left < entries.count else { return }
            let right = left + 1
            let smaller = right < entries.count && entries[right].deadline < entries[left].deadline ? right : left
            guard entries[smaller].deadline < entries[parent].deadline else { return }
            swapAt(parent, smaller)
            parent = smaller
        }
    }

    private mutating func swapAt(_ a: Int, _ b: Int) {
        entries.swapAt(a, b)
        entries[a].timer.timerSlot = a
        entries[b].timer.timerSlot = b
    }
}
