import Foundation
import Locking
import Testing
import TrustPayWebhooksTesting

/// The queue under the handler executor: an event loop pushes jobs without
/// waking a thread and wakes them once per round (``BlockingQueue/wake(upTo:)``).
@Suite struct BlockingQueueTests {
    /// Two threads sleep in `take()`; two jobs pushed quietly reach them
    /// once `wake(upTo:)` is called. Failed when `wake` signalled nobody
    /// (counting sleepers that were never counted): both jobs sat queued.
    @Test func quietPushesAreTakenOnceWoken() async throws {
        let queue = BlockingQueue<Int>()
        let taken = Locked<[Int]>([])
        for _ in 0..<2 {
            Thread {
                while let job = queue.take() { taken.withLock { $0.append(job) } }
            }.start()
        }
        defer { queue.close() }
        try await eventually("both threads waiting") { queue.sleepingCount == 2 }
        #expect(queue.push(1, wakingAThread: false))
        #expect(queue.push(2, wakingAThread: false))
        queue.wake(upTo: 2)
        try await eventually("both jobs taken") { taken.withLock { $0.sorted() == [1, 2] } }
        try await eventually("both threads waiting again") { queue.sleepingCount == 2 }
    }

    /// A burst of pushes inside `DeferredWakes.during` (the SQLite writer
    /// resuming a batch's callers) wakes each sleeping thread once, at its
    /// end, instead of once per push. Failed without the burst: the ten
    /// pushes signalled inside it.
    @Test func aBurstOfPushesWakesTheSleepersOnceAtItsEnd() async throws {
        let queue = BlockingQueue<Int>()
        let other = BlockingQueue<Int>()
        let taken = Locked<[Int]>([])
        for target in [queue, queue, other] {
            Thread {
                while let job = target.take() { taken.withLock { $0.append(job) } }
            }.start()
        }
        defer { queue.close(); other.close() }
        try await eventually("three threads waiting") { queue.sleepingCount == 2 && other.sleepingCount == 1 }
        let signalsInside = DeferredWakes.during {
            for job in 1...10 { queue.push(job) }
            other.push(11)
            return queue.wakeUps + other.wakeUps
        }
        #expect(signalsInside == 0)
        // Both of `queue`'s sleepers at once, and `other`'s one.
        #expect(queue.wakeUps == 1 && other.wakeUps == 1)
        try await eventually("every job taken") { taken.withLock { $0.sorted() == Array(1...11) } }
        // Outside a burst a push wakes a sleeper as before.
        try await eventually("the threads waiting again") { queue.sleepingCount == 2 }
        queue.push(12)
        #expect(queue.wakeUps == 2)
        try await eventually("the last job taken") { taken.withLock { $0.contains(12) } }
    }

    @Test func aClosedQueueRefusesQuietPushesToo() {
        let queue = BlockingQueue<Int>()
        queue.close()
        #expect(!queue.push(1, wakingAThread: false))
        #expect(!queue.push(2))
        queue.wake(upTo: 1)
        #expect(queue.take() == nil)
    }

    /// `take(upTo:)` hands out a copy, oldest first, and keeps the rest.
    @Test func takingSeveralKeepsOrder() {
        let queue = BlockingQueue<Int>()
        for job in 1...5 { queue.push(job) }
        #expect(queue.take(upTo: 3) == [1, 2, 3])
        #expect(queue.take(upTo: 10) == [4, 5])
        #expect(queue.count == 0)
    }
}
