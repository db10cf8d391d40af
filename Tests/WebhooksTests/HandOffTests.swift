import Foundation
import Inbox
import InboxTesting
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
}
