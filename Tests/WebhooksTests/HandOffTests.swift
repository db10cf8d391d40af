import Foundation
import Inbox
import InboxTesting
import Locking
import Testing
import TrustPay

@testable import Webhooks

/// The hand-off's storage stays bounded while the queue never empties
/// (sustained load): taken items, bodies included, are not kept behind the
/// queue's head. Made to fail by compacting only when the queue is empty
/// (1,001 items kept).
@Suite struct HandOffTests {
    @Test func takenItemsAreNotKeptWhileTheQueueNeverEmpties() async throws {
        let handOff = HandOff(capacity: 4, wakeUps: Waiters(remembersUnheard: true), wakeKey: 0)
        handOff.open()
        let store = MemoryInbox()
        let callback = try PaymentCallback(body: factory.payment(orderNo: "H", status: .paid).body)
        func item(_ index: Int) async throws -> HandOff.Item {
            let event = try await store.record(newEvent("H-\(index)"), lease: .none, now: Date()).event
            return HandOff.Item(event: event, decoded: .payment(callback))
        }
        #expect(handOff.reserve())
        handOff.deliver(try await item(0))
        for index in 1...1_000 {
            #expect(handOff.reserve())
            handOff.deliver(try await item(index))
            #expect(handOff.take(upTo: 1).count == 1)  // one stays queued throughout
        }
        #expect(handOff.storedCount <= 2 * handOff.capacity)
        #expect(handOff.take(upTo: 10).count == 1)
    }

    /// With slow handlers the queue is bounded by the age of its oldest
    /// event, not only by its capacity: an event joining it then would start
    /// too late in its lease. Fails with the age not checked (a place is
    /// reserved at 10 s).
    @Test func aQueueWhoseOldestEventWaitedTooLongTakesNoMore() async throws {
        let handOff = HandOff(capacity: 100, maxWait: .seconds(10), wakeUps: Waiters(remembersUnheard: true), wakeKey: 0)
        handOff.open()
        let start: UInt64 = 7_000_000_000_000  // monotonic nanoseconds
        let second: UInt64 = 1_000_000_000
        let store = MemoryInbox()
        let callback = try PaymentCallback(body: factory.payment(orderNo: "W", status: .paid).body)
        let event = try await store.record(newEvent("W-1"), lease: .none, now: Date()).event
        #expect(handOff.reserve(now: start))
        handOff.deliver(HandOff.Item(event: event, decoded: .payment(callback)), now: start)
        #expect(handOff.reserve(now: start + 9 * second))
        handOff.release()
        #expect(!handOff.reserve(now: start + 10 * second))
        #expect(handOff.take(upTo: 1).count == 1)
        #expect(handOff.reserve(now: start + 10 * second), "an empty queue takes events again")
        handOff.release()
    }
}

/// Why the queues copy what they hand out with `freshCopy(of:)`.
@Suite struct FreshCopyTests {
    private func storage<T>(_ array: [T]) -> UnsafeRawPointer? {
        array.withUnsafeBufferPointer { UnsafeRawPointer($0.baseAddress) }
    }

    /// Failed with `Array(items[head..<end])`: taking every queued item
    /// shared the queue's storage, so emptying the queue afterwards with
    /// `removeAll(keepingCapacity: true)` allocated its whole capacity anew.
    @Test func aCopyOfEverythingSharesNoStorage() {
        var queue = Array(0..<100)
        let before = storage(queue)
        let taken = queue.freshCopy(of: 0..<queue.count)
        #expect(taken == Array(0..<100))
        #expect(storage(taken) != before)
        queue.removeAll(keepingCapacity: true)
        #expect(storage(queue) == before, "emptying the queue moved its storage")
    }

    @Test func aCopyOfPartIsThosePartsInOrder() {
        let queue = Array(0..<10)
        #expect(queue.freshCopy(of: 3..<7) == [3, 4, 5, 6])
        #expect(queue.freshCopy(of: 5..<5).isEmpty)
    }
}
