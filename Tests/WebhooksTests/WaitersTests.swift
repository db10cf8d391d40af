import Deadlines
import Locking
import Testing

@testable import Webhooks

/// How a wait ends: a notification, its time-out (kept by a timer, not a
/// task), or its task's cancellation; and a time-out or cancellation that
/// comes before the waiter has suspended still ends it.
@Suite struct WaitersTests {
    @Test func aNotificationEndsTheWaitAndItsTimeOut() async {
        let waiters = Waiters<Int>(remembersUnheard: false)
        let timer = DeadlineThread()
        async let waited: Void = waiters.wait(for: 1, timeout: .seconds(3600), timer: timer)
        while timer.pendingCount == 0 { await Task.yield() }
        // Until the waiter has suspended, a notification is not heard.
        while !waiters.isWaiting(for: 1) { await Task.yield() }
        waiters.notify(1)
        await waited
        #expect(timer.pendingCount == 0)
    }

    @Test func theTimeOutEndsTheWait() async {
        let waiters = Waiters<Int>(remembersUnheard: false)
        let timer = ControlledTimer()
        async let waited: Void = waiters.wait(for: 1, timeout: .milliseconds(250), timer: timer)
        while timer.requested.isEmpty { await Task.yield() }
        #expect(timer.requested == [.milliseconds(250)])
        timer.releaseAll()
        await waited
    }

    /// Made to fail by ignoring a time-out that finds no suspended waiter:
    /// the wait then never ended (the test hung).
    @Test func aTimeOutBeforeTheWaiterSuspendsStillEndsIt() async {
        let waiters = Waiters<Int>(remembersUnheard: false)
        let timer = ControlledTimer()
        timer.releaseAll()  // every time-out passes as soon as it is set
        await waiters.wait(for: 1, timeout: .seconds(3600), timer: timer)
        #expect(!waiters.isWaiting(for: 1))
    }

    @Test func cancellationEndsTheWait() async {
        let waiters = Waiters<Int>(remembersUnheard: false)
        let timer = DeadlineThread()
        let task = Task { await waiters.wait(for: 1, timeout: .seconds(3600), timer: timer) }
        while !waiters.isWaiting(for: 1) { await Task.yield() }
        task.cancel()
        await task.value
        #expect(timer.pendingCount == 0)
    }

    @Test func anUnheardNotificationEndsTheNextWaitWhenRemembered() async {
        let waiters = Waiters<Int>(remembersUnheard: true)
        waiters.notify(1)
        await waiters.wait(for: 1, timeout: .seconds(3600), timer: DeadlineThread())
    }

    /// One recorded event wakes one worker. Made to fail by having
    /// `notifyOne` resume everyone (both waits ended).
    @Test func notifyOneEndsOneWait() async {
        let waiters = Waiters<Int>(remembersUnheard: false)
        let ended = Locked(0)
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<2 {
                group.addTask {
                    await waiters.wait(for: 1, timeout: .seconds(3600))
                    ended.withLock { $0 += 1 }
                }
            }
            while waiters.waitingCount(for: 1) < 2 { await Task.yield() }
            waiters.notifyOne(1)
            while ended.withLock({ $0 }) < 1 { await Task.yield() }
            #expect(waiters.waitingCount(for: 1) == 1)
            #expect(ended.withLock { $0 } == 1)
            waiters.notify(1)
        }
        #expect(ended.withLock { $0 } == 2)
    }

    @Test func notifyOneWithNobodyWaitingIsRememberedWhenAsked() async {
        let waiters = Waiters<Int>(remembersUnheard: true)
        waiters.notifyOne(1)
        await waiters.wait(for: 1, timeout: .seconds(3600), timer: DeadlineThread())
    }
}
