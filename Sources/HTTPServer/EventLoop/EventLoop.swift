import CLinuxSys
import Glibc
import Synchronization
import Locking

/// Something an event loop wakes when its file descriptor is ready.
/// Called only on the loop's own thread.
protocol FileEventHandler: AnyObject {
    func handleEvents(_ events: UInt32)
}

/// Something that finishes its work once the round's jobs have all run
/// (see ``EventLoop/afterJobs(_:)``). Called only on the loop's own thread.
protocol RoundEndHandler: AnyObject {
    func roundEnded()
}

/// One thread, one epoll instance: readiness for file descriptors, a mailbox
/// other threads post closures to, and a heap of deadlines it sleeps until.
/// It is also a task executor (EventLoop+TaskExecutor.swift) for
/// ``RouteHandler/nonBlocking(_:)`` routes. Everything except `execute` and
/// `enqueue` must be called on the loop's thread.
final class EventLoop: @unchecked Sendable {
    let index: Int
    private let epollFD: Int32
    private let wakeFD: Int32
    private var handlers: [FileEventHandler?] = []
    private let mailbox = Locked<Mailbox>(Mailbox())
    /// The mailbox's other array (loop thread only).
    private var spareWork: [@Sendable () -> Void] = []
    private var running = true
    private var timers = TimerHeap()
    /// Jobs of tasks that prefer this loop, run after the current events.
    /// Loop thread only: other threads post theirs through the mailbox.
    var readyJobs: [UnownedJob] = []
    /// Jobs this loop's thread gave the handler executor in this round
    /// without waking its threads: woken once, when the round ends.
    var unwokenExecutorJobs = 0
    /// Whether the loop is running a round's jobs (``runReadyJobs()``).
    var runningJobs = false
    /// What waits for the end of the current round of jobs, in order.
    private var roundEnd: [any RoundEndHandler] = []
    private var spareRoundEnd: [any RoundEndHandler] = []
    /// Returns from `epoll_wait` with events: what a busy-looping loop
    /// would drive up, read by tests.
    let wakeups = Atomic<Int>(0)
    /// Every return from `epoll_wait`, timeouts included: an idle loop
    /// with nothing due should not add to it. Read by tests.
    let polls = Atomic<Int>(0)

    init(index: Int) throws(SocketError) {
        self.index = index
        let ep = epoll_create1(Int32(EPOLL_CLOEXEC))
        guard ep >= 0 else { throw SocketError.system("epoll_create1", errno) }
        let ev = eventfd(0, Int32(EFD_NONBLOCK | EFD_CLOEXEC))
        guard ev >= 0 else {
            close(ep)
            throw SocketError.system("eventfd", errno)
        }
        epollFD = ep
        wakeFD = ev
        var event = epoll_event()
        event.events = EPOLLIN.rawValue
        event.data.fd = ev
        _ = epoll_ctl(ep, EPOLL_CTL_ADD, ev, &event)
    }

    deinit {
        close(epollFD)
        close(wakeFD)
    }

    // MARK: file events

    func register(_ fd: Int32, events: UInt32, handler: FileEventHandler) -> Bool {
        if Int(fd) >= handlers.count {
            handlers.append(contentsOf: repeatElement(nil, count: Int(fd) + 1 - handlers.count + 64))
        }
        var event = epoll_event()
        event.events = events
        event.data.fd = fd
        guard epoll_ctl(epollFD, EPOLL_CTL_ADD, fd, &event) == 0 else { return false }
        handlers[Int(fd)] = handler
        return true
    }

    func modify(_ fd: Int32, events: UInt32) {
        var event = epoll_event()
        event.events = events
        event.data.fd = fd
        _ = epoll_ctl(epollFD, EPOLL_CTL_MOD, fd, &event)
    }

    /// Forgets `fd`; the caller closes it afterwards.
    func unregister(_ fd: Int32) {
        _ = epoll_ctl(epollFD, EPOLL_CTL_DEL, fd, nil)
        if Int(fd) < handlers.count { handlers[Int(fd)] = nil }
    }

    // MARK: timers

    /// Calls `timer.timerFired` once `deadline` (monotonic ns) has passed,
    /// replacing its earlier deadline if it had one.
    func schedule(_ timer: any LoopTimer, at deadline: UInt64) { timers.schedule(timer, at: deadline) }

    func cancel(_ timer: any LoopTimer) { timers.cancel(timer) }

    /// Pending timers, read by tests.
    var scheduledTimers: Int { timers.count }

    /// Milliseconds `epoll_wait` may sleep: until the next deadline, rounded
    /// up so it wakes after it, or forever when none is due.
    private func pollTimeout(now: UInt64) -> Int32 {
        guard readyJobs.isEmpty else { return 0 }
        guard let next = timers.nextDeadline else { return -1 }
        guard next > now else { return 0 }
        let ms = (next - now + 999_999) / 1_000_000
        return Int32(min(ms, UInt64(Int32.max)))
    }

    private func fireExpiredTimers() {
        let now = MonotonicClock.nanoseconds()
        while let timer = timers.popExpired(now: now) { timer.timerFired(now: now) }
    }

    // MARK: cross-thread

    /// Runs `work` on the loop thread soon. Safe from any thread. Returns
    /// false, without running it, once the loop has ended.
    @discardableResult
    func execute(_ work: @escaping @Sendable () -> Void) -> Bool {
        let (accepted, wasEmpty) = mailbox.withLock { box -> (Bool, Bool) in
            guard !box.closed else { return (false, false) }
            box.work.append(work)
            return (true, box.work.count == 1)
        }
        if wasEmpty { wake() }
        return accepted
    }

    private func wake() {
        var one: UInt64 = 1
        _ = withUnsafeBytes(of: &one) { write(wakeFD, $0.baseAddress, 8) }
    }

    func stop() { execute { [self] in running = false } }

    // MARK: running

    /// The loop body; returns after `stop()`.
    func run() {
        Self.setCurrent(self)
        defer { Self.setCurrent(nil) }
        let capacity = 256
        let events = UnsafeMutablePointer<epoll_event>.allocate(capacity: capacity)
        defer { events.deallocate() }
        while running {
            let n = epoll_wait(epollFD, events, Int32(capacity), pollTimeout(now: MonotonicClock.nanoseconds()))
            if n < 0 && errno != EINTR { break }
            polls.wrappingAdd(1, ordering: .relaxed)
            if n > 0 { wakeups.wrappingAdd(1, ordering: .relaxed) }
            for i in 0..<max(0, Int(n)) {
                let event = events[i]
                let fd = event.data.fd
                if fd == wakeFD {
                    drainMailbox()
                } else if Int(fd) < handlers.count, let handler = handlers[Int(fd)] {
                    handler.handleEvents(event.events)
                }
            }
            fireExpiredTimers()
            runReadyJobs()
            endRound()
            wakeHandlerExecutor()
        }
        drainMailbox(closing: true)
        runReadyJobs()
        endRound()
        handOffJobsLeft()
        wakeHandlerExecutor()
    }

    /// Calls `handler.roundEnded()` once the jobs of this round have run:
    /// answers finished by one round's jobs are written together after it,
    /// not one by one between the jobs.
    func afterJobs(_ handler: any RoundEndHandler) {
        roundEnd.append(handler)
    }

    private func endRound() {
        while !roundEnd.isEmpty {
            swap(&roundEnd, &spareRoundEnd)
            for handler in spareRoundEnd { handler.roundEnded() }
            spareRoundEnd.removeAll(keepingCapacity: true)
        }
    }

    private func drainMailbox(closing: Bool = false) {
        var counter: UInt64 = 0
        _ = withUnsafeMutableBytes(of: &counter) { read(wakeFD, $0.baseAddress, 8) }
        // Swapped with a spare array, both keeping their storage: taking a
        // copy and emptying the mailbox with `removeAll(keepingCapacity:)`
        // allocated a new buffer on every drain (the copy shared the old one).
        var work = spareWork
        spareWork = []
        mailbox.withLock { box in
            swap(&work, &box.work)
            box.closed = closing
        }
        for item in work { item() }
        work.removeAll(keepingCapacity: true)
        spareWork = work
    }
}

/// Work posted to a loop by other threads; closed when the loop has ended,
/// so a poster learns that its work will never run.
private struct Mailbox {
    var work: [@Sendable () -> Void] = []
    var closed = false
}

/// CLOCK_MONOTONIC in nanoseconds: deadlines and rates must not jump with
/// wall time. One clock for the loops' timers and the access policy's rate
/// limit; `ContinuousClock` costs a conversion per read on the hot path.
package enum MonotonicClock {
    package static func nanoseconds() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
    }
}
