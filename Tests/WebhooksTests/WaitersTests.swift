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
}
