import Locking
import Testing
@testable import TrustPayAPI

@Suite("A merchant's request gate")
struct RequestGateTests {
    /// Polls `condition` until it holds (bounded: a broken gate fails, never hangs).
    func until(_ condition: () -> Bool) async throws {
        for _ in 0..<2_000 where !condition() {
            try await Task.sleep(for: .milliseconds(5))
        }
        #expect(condition())
    }

    @Test("a caller cancelled while waiting leaves the queue, and the permit still passes on")
    func cancelledWaiterLeaves() async throws {
        let gate = RequestGate(limit: 1, requestsPerSecond: nil)
        let (release, releaser) = AsyncStream<Void>.makeStream()
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {  // holds the only permit until released
                _ = await gate.run { () async -> Int in
                    for await _ in release { break }
                    return 1
                }
            }
            try await until { gate.waiting == 0 }
            let outcome = await withTaskGroup(of: Int?.self) { waiter in
                waiter.addTask { await gate.run { 2 } }
                try? await until { gate.waiting == 1 }
                waiter.cancelAll()  // cancels only the waiter
                return await waiter.next() ?? 0
            }
            #expect(outcome == nil)
            #expect(gate.waiting == 0)
            releaser.yield()
            releaser.finish()
            try await group.waitForAll()
        }
        #expect(await gate.run { 3 } == 3)
    }

    @Test("waiters are served first come, first served")
    func fifo() async throws {
        let gate = RequestGate(limit: 1, requestsPerSecond: nil)
        let (release, releaser) = AsyncStream<Void>.makeStream()
        let order = OrderLog()
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                _ = await gate.run { () async -> Int in
                    for await _ in release { break }
                    return 0
                }
            }
            for index in 1...3 {
                try await until { gate.waiting == index - 1 }
                group.addTask { _ = await gate.run { order.append(index) } }
                try await until { gate.waiting == index }
            }
            releaser.yield()
            releaser.finish()
            try await group.waitForAll()
        }
        #expect(order.values == [1, 2, 3])
    }
}

final class OrderLog: Sendable {
    private let log = Locked<[Int]>([])
    func append(_ value: Int) { log.withLock { $0.append(value) } }
    var values: [Int] { log.withLock { $0 } }
}
