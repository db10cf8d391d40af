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

    /// Its tables are sized for `capacity` events when it is made: a Swift
    /// dictionary grows by rehashing everything at once, under the lock
    /// both event loops take, and those growth stalls (17 to 143 ms) were
    /// the memory path's p99. Failed before the reservation: every table
    /// started empty and grew.
    @Test func neverGrowsItsTablesWhileItHoldsCapacityEventsOrFewer() async throws {
        let inbox = MemoryInbox(capacity: 400)
        let reserved = inbox.tableCapacities
        #expect(reserved.allSatisfy { $0 >= 400 })
        let lease = Lease(owner: "w", duration: .seconds(30))
        // Five times the capacity through every queue: leased and completed
        // (completions, evictions), pending then claimed (heads), failed
        // and retried (timed), two statuses per order (slots).
        for index in 0..<2_000 {
            let now = t0.addingTimeInterval(Double(index))
            let order = "O-\(index / 2)", status = index % 2 == 0 ? 5 : 7
            if index % 4 == 3 {
                let event = try await inbox.record(newEvent(order, status: status, rank: nil), lease: .none, now: now).event
                let claimed = try await inbox.claimDue(owner: "c", limit: 8, leaseDuration: .seconds(30), now: now)
                for claimed in claimed where claimed.id != event.id {
                    #expect(try await inbox.complete(id: claimed.id, owner: "c", now: now))
                }
                if claimed.contains(where: { $0.id == event.id }) {
                    #expect(try await inbox.fail(id: event.id, owner: "c", error: "x", retryAt: now, now: now))
                }
            } else {
                let event = try await inbox.record(newEvent(order, status: status, rank: nil), lease: .always(lease), now: now).event
                #expect(try await inbox.complete(id: event.id, owner: "w", now: now))
            }
            #expect(inbox.tableCapacities == reserved, "a table grew at event \(index)")
            if inbox.tableCapacities != reserved { break }
        }
    }

    /// At capacity every record evicts the oldest completion, mostly the
    /// log's oldest event, and every completion ends the earliest lease:
    /// the log and the lease queue drop those as they go. Failed (log, then
    /// leases) while both kept them until they held twice the events plus
    /// 1,024 and a whole-queue tidy cleared them: over 100 ms at 100,000
    /// events, both loops waiting on the lock.
    @Test func theLogAndTheLeaseQueueShedWhatIsOverAsTheyGo() async throws {
        let inbox = MemoryInbox(capacity: 400)
        let lease = Lease(owner: "w", duration: .seconds(30))
        var longestLog = 0, longestTimed = 0
        for index in 0..<5_000 {
            let now = t0.addingTimeInterval(Double(index))
            let event = try await inbox.record(newEvent("O-\(index)"), lease: .always(lease), now: now).event
            #expect(try await inbox.complete(id: event.id, owner: "w", now: now))
            let lengths = inbox.queueLengths
            longestLog = max(longestLog, lengths.log)
            longestTimed = max(longestTimed, lengths.timed)
        }
        #expect(inbox.count == 400)
        #expect(longestLog <= 400 + 1_024, "the log reached \(longestLog) tickets")
        #expect(longestTimed <= 1, "the lease queue reached \(longestTimed) entries")
        // Listings still see exactly the live events, in receipt order.
        let newest = try await inbox.list(EventFilter(limit: 3, newestFirst: true)).map(\.orderNo)
        #expect(newest == ["O-4999", "O-4998", "O-4997"])
        let oldest = try await inbox.list(EventFilter(limit: 2)).map(\.orderNo)
        #expect(oldest == ["O-4600", "O-4601"])
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
