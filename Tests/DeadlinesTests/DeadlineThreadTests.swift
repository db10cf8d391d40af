import Deadlines
import Locking
import Testing
import TestSupport

/// The deadline thread: expiries fire once, in order of expiry, and a
/// cancelled deadline neither fires nor stays queued. Each test makes its
/// own timer, so no other test's deadlines are counted.
@Suite struct DeadlineThreadTests {
    @Test func anExpiryFiresOnceItsLimitHasPassed() async {
        let timer = DeadlineThread()
        let fired = Locked(0)
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            _ = timer.schedule(after: .milliseconds(20)) {
                fired.withLock { $0 += 1 }
                done.resume()
            }
        }
        #expect(fired.withLock { $0 } == 1)
        #expect(timer.pendingCount == 0)
        #expect(timer.queuedCount == 0)
    }

    /// Made to fail by ignoring `cancel()`: the first deadline fired.
    @Test func aCancelledDeadlineNeverFires() async {
        let timer = DeadlineThread()
        let fired = Locked([String]())
        let first = timer.schedule(after: .milliseconds(20)) { fired.withLock { $0.append("cancelled") } }
        first.cancel()
        // Same limit, scheduled later: it expires after the cancelled one
        // would have, and the thread fires due deadlines in order of expiry.
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            _ = timer.schedule(after: .milliseconds(20)) {
                fired.withLock { $0.append("kept") }
                done.resume()
            }
        }
        #expect(fired.withLock { $0 } == ["kept"])
    }

    /// A later, shorter deadline is not kept waiting behind an earlier,
    /// longer one. Made to fail by never waking the thread for an earlier
    /// expiry: the short one fired 120 s late, after the long one.
    ///
    /// The long one is far off so that a stalled machine cannot see it
    /// expire before the thread sleeps: with 30 s, a CI run whose process
    /// stood still for 35 s saw it fire first, and the wait below, which
    /// then never ended, held the whole run.
    @Test func aShorterLimitScheduledLaterFiresFirst() async {
        let timer = DeadlineThread()
        let order = Locked([String]())
        let long = timer.schedule(after: .seconds(120)) { order.withLock { $0.append("long") } }
        while !timer.isWaitingForExpiry {  // asleep until the long one
            guard order.withLock({ $0.isEmpty }) else {
                Issue.record("the long deadline expired before the thread slept: the machine stood still for 120 s")
                return
            }
            await Task.yield()
        }
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            _ = timer.schedule(after: .milliseconds(10)) {
                order.withLock { $0.append("short") }
                done.resume()
            }
        }
        #expect(order.withLock { $0 } == ["short"])
        #expect(timer.pendingCount == 1)
        long.cancel()
        #expect(timer.pendingCount == 0)
    }

    /// Deadlines that end early (every handler attempt that finishes in
    /// time) leave nothing behind: the memory a deadline takes is given
    /// back when it is cancelled, not when it would have expired. Made to
    /// fail by only marking cancelled entries (10,000 stayed queued).
    @Test func cancelledDeadlinesAreNotKept() {
        let timer = DeadlineThread()
        let alarms = (0..<10_000).map { _ in timer.schedule(after: .seconds(3600)) {} }
        #expect(timer.queuedCount == 10_000)
        // Out of order, as attempts end: the queue gives back all it can.
        for alarm in alarms.reversed() { alarm.cancel() }
        #expect(timer.pendingCount == 0)
        #expect(timer.queuedCount == 0)
    }
}

/// `withDeadline` with the deadline thread keeping the limit.
@Suite struct WithDeadlineTests {
    @Test func anOperationThatEndsInTimeGivesItsValueAndLeavesNoDeadline() async throws {
        let timer = DeadlineThread()
        let outcome = await withDeadline(.seconds(3600), timer: timer) { 42 }
        #expect(try outcome.get() == 42)
        #expect(timer.pendingCount == 0)
    }

    @Test func anOperationThatThrowsGivesItsError() async {
        struct Refused: Error {}
        let outcome = await withDeadline(.seconds(3600), timer: DeadlineThread()) { () async throws -> Int in
            throw Refused()
        }
        guard case .failed(let error) = outcome else { Issue.record("expected .failed, got \(outcome)"); return }
        #expect(error is Refused)
    }

    /// The caller has its answer at the limit even though the operation
    /// ignores cancellation; the operation is abandoned, then let go.
    @Test func anOperationThatOverrunsIsAbandonedAtTheLimit() async {
        let gate = SuspensionGate()
        let outcome = await withDeadline(.milliseconds(30), timer: DeadlineThread()) { () async -> Int in
            await gate.wait()  // ignores cancellation
            return 1
        }
        guard case .timedOut(let limit) = outcome else { Issue.record("expected .timedOut, got \(outcome)"); return }
        #expect(limit == .milliseconds(30))
        gate.open()
    }

    @Test func aCancelledCallerGetsCancellationError() async {
        let gate = SuspensionGate()
        let task = Task {
            await withDeadline(.seconds(3600), timer: DeadlineThread()) { () async -> Int in
                await gate.wait()
                return 1
            }
        }
        task.cancel()
        let outcome = await task.value
        guard case .failed(let error) = outcome else { Issue.record("expected .failed, got \(outcome)"); return }
        #expect(error is CancellationError)
        gate.open()
    }
}
