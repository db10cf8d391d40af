import Foundation
import Inbox
import InboxTesting
import Testing
import TestSupport
import TrustPayWebhooksTesting
import Webhooks

/// The in-memory inbox as a state machine, without sockets: the store
/// contract, then its bounds.
@Suite struct MemoryInboxTests {
    @Test(arguments: IdempotencyStoreContract.Requirement.allCases)
    func keepsTheStoreContract(_ requirement: IdempotencyStoreContract.Requirement) async throws {
        try await IdempotencyStoreContract().verify(requirement, on: MemoryInbox())
    }

    // What follows is particular to the memory inbox: its bounds.

    @Test func staysWithinCapacityByForgettingCompletedEventsFirst() async throws {
        let inbox = MemoryInbox(capacity: 3)
        var ids: [String] = []
        for index in 0..<3 {
            let event = try await inbox.record(newEvent("O-\(index)"), lease: .always(Lease(owner: "w", duration: .seconds(30))), now: t0).event
            ids.append(event.id)
        }
        await #expect(throws: StoreError.full(capacity: 3)) {
            _ = try await inbox.record(newEvent("O-3"), lease: .none, now: t0)
        }
        #expect(try await inbox.complete(id: ids[1], owner: "w", now: t0))
        _ = try await inbox.record(newEvent("O-3"), lease: .none, now: t0)
        #expect(try await inbox.list(EventFilter()).map(\.orderNo) == ["O-0", "O-2", "O-3"])
        #expect(inbox.count == 3)
    }

    /// The due queue takes a retry out of its timed queue once a claim's
    /// clock passes its time; a later claim with an earlier clock (workers'
    /// clocks are read before they take the lock) must put it back, not
    /// drop it, or the event would never be claimed again.
    @Test func aRetrySeenDueByOneClaimStaysClaimableAfterAClaimWithAnEarlierClock() async throws {
        let inbox = MemoryInbox()
        let event = try await inbox.record(newEvent("RETRY"), lease: .none, now: t0).event
        let first = try await inbox.claimDue(owner: "a", limit: 1, leaseDuration: .seconds(30), now: t0)
        #expect(first.map(\.id) == [event.id])
        #expect(try await inbox.fail(id: event.id, owner: "a", error: "x", retryAt: t0.addingTimeInterval(10), now: t0))
        // Sees it due but takes nothing (limit 0), then a claim at an earlier time.
        let none = try await inbox.claimDue(owner: "b", limit: 0, leaseDuration: .seconds(30), now: t0.addingTimeInterval(20))
        #expect(none.isEmpty)
        let early = try await inbox.claimDue(owner: "b", limit: 1, leaseDuration: .seconds(30), now: t0.addingTimeInterval(5))
        #expect(early.isEmpty)
        let again = try await inbox.claimDue(owner: "c", limit: 1, leaseDuration: .seconds(30), now: t0.addingTimeInterval(20))
        #expect(again.map(\.id) == [event.id])
        #expect(again.first?.attempts == 2)
    }

    /// Ten thousand completed events change nothing a claim or an eviction
    /// returns: the claim still gets the oldest unfinished event of each
    /// order, oldest first, and at capacity the events that completed first
    /// go first (here the reverse of their receipt order, so receipt order
    /// would evict the wrong ones).
    @Test func amongTenThousandCompletedEventsClaimsTakeEachOrdersHeadAndEvictionsTheOldestCompletion() async throws {
        let done = 10_000
        let inbox = MemoryInbox(capacity: done + 4)
        var completed: [String] = []
        for index in 0..<done {
            let lease = Lease(owner: "w", duration: .seconds(30))
            let event = try await inbox.record(newEvent("DONE-\(index)"), lease: .always(lease), now: t0).event
            let finished = try await inbox.complete(id: event.id, owner: "w", now: t0.addingTimeInterval(Double(done - index)))
            #expect(finished)
            completed.append(event.id)
        }
        let later = t0.addingTimeInterval(Double(done + 1))
        let a1 = try await inbox.record(newEvent("A", status: 1, rank: 1, at: 1), lease: .none, now: later).event
        let b1 = try await inbox.record(newEvent("B", status: 1, rank: 1, at: 2), lease: .none, now: later).event
        let a2 = try await inbox.record(newEvent("A", status: 2, rank: 2, at: 3), lease: .none, now: later).event

        let heads = try await inbox.claimDue(owner: "c", limit: 10, leaseDuration: .seconds(30), now: later)
        #expect(heads.map(\.id) == [a1.id, b1.id])
        #expect(try await inbox.claimDue(owner: "c", limit: 10, leaseDuration: .seconds(30), now: later).isEmpty)
        #expect(try await inbox.complete(id: a1.id, owner: "c", now: later))
        let next = try await inbox.claimDue(owner: "c", limit: 10, leaseDuration: .seconds(30), now: later)
        #expect(next.map(\.id) == [a2.id])

        // Full after one more; then each record evicts the earliest completion.
        _ = try await inbox.record(newEvent("C"), lease: .none, now: later)
        #expect(inbox.count == done + 4)
        _ = try await inbox.record(newEvent("D"), lease: .none, now: later)
        _ = try await inbox.record(newEvent("E"), lease: .none, now: later)
        #expect(inbox.count == done + 4)
        #expect(try await inbox.event(id: completed[done - 1]) == nil)
        #expect(try await inbox.event(id: completed[done - 2]) == nil)
        #expect(try await inbox.event(id: completed[done - 3]) != nil)
        #expect(try await inbox.event(id: completed[0]) != nil)
        #expect(try await inbox.event(id: a1.id) != nil)
    }
}
