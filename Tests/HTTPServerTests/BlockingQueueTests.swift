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
