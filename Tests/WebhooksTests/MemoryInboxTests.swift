import Foundation
import Testing
import Webhooks

/// The in-memory inbox as a state machine, without sockets.
@Suite struct MemoryInboxTests {
    let t0 = Date(timeIntervalSince1970: 1_750_000_000)

    func newEvent(_ order: String = "O-1", status: Int = 5, rank: Int? = 1, hash: String = "h1", at offset: Double = 0) -> NewInboxEvent {
        NewInboxEvent(
            key: IdempotencyKey(rawValue: "[\"\(order)\",\(status)]"), contentHash: hash, kind: .payment,
            merchantID: 1, orderType: 0, orderNo: order, status: status,
            order: OrderReference(rawValue: order), statusRank: rank, rawBody: Array("{}".utf8),
            receivedAt: t0.addingTimeInterval(offset))
    }

    @Test func recordsOncePerKeyAndTellsDuplicatesFromConflicts() async throws {
        let inbox = MemoryInbox()
        let first = try await inbox.record(newEvent(), lease: nil, now: t0)
        guard case .recorded(let event) = first else { Issue.record("not recorded: \(first)"); return }
        #expect(event.state == .pending && event.attempts == 0)
        let again = try await inbox.record(newEvent(), lease: nil, now: t0)
        #expect(again == .duplicate(event))
        let other = try await inbox.record(newEvent(hash: "h2"), lease: nil, now: t0)
        guard case .conflict(let conflicted) = other else { Issue.record("not a conflict: \(other)"); return }
        #expect(conflicted.id == event.id && conflicted.conflicts == 1 && conflicted.contentHash == "h1")
        #expect(inbox.count == 1)
    }

    @Test func tracksTheLastStatusPerOrderAndFlagsStaleEvents() async throws {
        let inbox = MemoryInbox()
        let refunded = try await inbox.record(newEvent(status: 7, rank: 4), lease: nil, now: t0).event
        #expect(refunded.previousStatus == nil && !refunded.isStale)
        let late = try await inbox.record(newEvent(status: 5, rank: 1), lease: nil, now: t0).event
        #expect(late.previousStatus == 7 && late.isStale)
        let unranked = try await inbox.record(newEvent(status: 42, rank: nil), lease: nil, now: t0).event
        #expect(unranked.previousStatus == 7 && !unranked.isStale)
        let next = try await inbox.record(newEvent(status: 8, rank: 3), lease: nil, now: t0).event
        #expect(next.previousStatus == 42 && next.isStale)  // rank 3 < 4 kept from status 7
        let otherOrder = try await inbox.record(newEvent("O-2", status: 5, rank: 1), lease: nil, now: t0).event
        #expect(otherOrder.previousStatus == nil)
    }

    @Test func claimsAreExclusiveAndLeasesExpire() async throws {
        let inbox = MemoryInbox()
        for index in 0..<5 { _ = try await inbox.record(newEvent("O-\(index)"), lease: nil, now: t0) }
        let a = try await inbox.claimDue(owner: "a", limit: 3, leaseDuration: .seconds(30), now: t0)
        let b = try await inbox.claimDue(owner: "b", limit: 3, leaseDuration: .seconds(30), now: t0)
        #expect(a.map(\.orderNo) == ["O-0", "O-1", "O-2"])
        #expect(b.map(\.orderNo) == ["O-3", "O-4"])
        #expect(a.allSatisfy { $0.attempts == 1 })
        #expect(try await inbox.claimDue(owner: "c", limit: 10, leaseDuration: .seconds(30), now: t0).isEmpty)
        // "a" crashed: after its lease, "c" takes its events over.
        let later = t0.addingTimeInterval(31)
        let takenOver = try await inbox.claimDue(owner: "c", limit: 2, leaseDuration: .seconds(30), now: later)
        #expect(takenOver.map(\.orderNo) == ["O-0", "O-1"])
        #expect(takenOver.allSatisfy { $0.attempts == 2 })
        // The old owner can no longer finish them; the new one can.
        #expect(try await inbox.complete(id: takenOver[0].id, owner: "a", now: later) == false)
        #expect(try await inbox.complete(id: takenOver[0].id, owner: "c", now: later) == true)
        #expect(try await inbox.claim(id: takenOver[0].id, owner: "d", leaseDuration: .seconds(30), now: later) == nil)
    }

    @Test func failedEventsWaitForTheirRetryAndDeadOnesForAReplay() async throws {
        let inbox = MemoryInbox()
        let event = try await inbox.record(newEvent(), lease: Lease(owner: "req", duration: .seconds(30)), now: t0).event
        #expect(event.attempts == 1)
        #expect(try await inbox.fail(id: event.id, owner: "req", error: "boom", retryAt: t0.addingTimeInterval(10), now: t0))
        #expect(try await inbox.claimDue(owner: "w", limit: 5, leaseDuration: .seconds(30), now: t0.addingTimeInterval(5)).isEmpty)
        let retry = try await inbox.claimDue(owner: "w", limit: 5, leaseDuration: .seconds(30), now: t0.addingTimeInterval(10))
        #expect(retry.map(\.attempts) == [2])
        #expect(retry[0].lastError == "boom")
        #expect(try await inbox.deadLetter(id: event.id, owner: "w", error: "boom again", now: t0.addingTimeInterval(11)))
        #expect(try await inbox.claimDue(owner: "w", limit: 5, leaseDuration: .seconds(30), now: t0.addingTimeInterval(999)).isEmpty)
        let dead = try await inbox.list(.deadLetters)
        #expect(dead.count == 1 && DeadLetter(dead[0])?.error == "boom again")
        let replayed = try #require(try await inbox.replay(id: event.id, now: t0.addingTimeInterval(20)))
        #expect(replayed.state == .pending && replayed.attempts == 0)
        #expect(try await inbox.claimDue(owner: "w", limit: 5, leaseDuration: .seconds(30), now: t0.addingTimeInterval(21)).count == 1)
    }

    @Test func listsAndPurgesByFilter() async throws {
        let inbox = MemoryInbox()
        for index in 0..<4 { _ = try await inbox.record(newEvent("O-\(index)", at: Double(index)), lease: nil, now: t0) }
        #expect(try await inbox.list(EventFilter(orderNo: "O-2")).map(\.orderNo) == ["O-2"])
        #expect(try await inbox.list(EventFilter(receivedFrom: t0.addingTimeInterval(1), receivedBefore: t0.addingTimeInterval(3))).map(\.orderNo) == ["O-1", "O-2"])
        #expect(try await inbox.list(EventFilter(kinds: [.card])).isEmpty)
        #expect(try await inbox.list(EventFilter(limit: 2)).count == 2)
        #expect(try await inbox.purge(EventFilter(orderNo: "O-0")) == 1)
        #expect(try await inbox.list(EventFilter()).map(\.orderNo) == ["O-1", "O-2", "O-3"])
        // A purged key is new again.
        guard case .recorded = try await inbox.record(newEvent("O-0"), lease: nil, now: t0) else {
            Issue.record("a purged key should be recordable again")
            return
        }
    }

    @Test func staysWithinCapacityByForgettingCompletedEventsFirst() async throws {
        let inbox = MemoryInbox(capacity: 3, retention: .seconds(3600))
        var ids: [String] = []
        for index in 0..<3 {
            let event = try await inbox.record(newEvent("O-\(index)"), lease: Lease(owner: "w", duration: .seconds(30)), now: t0).event
            ids.append(event.id)
        }
        await #expect(throws: StoreError.full(capacity: 3)) {
            _ = try await inbox.record(newEvent("O-3"), lease: nil, now: t0)
        }
        #expect(try await inbox.complete(id: ids[1], owner: "w", now: t0))
        _ = try await inbox.record(newEvent("O-3"), lease: nil, now: t0)
        #expect(try await inbox.list(EventFilter()).map(\.orderNo) == ["O-0", "O-2", "O-3"])
        #expect(inbox.count == 3)
    }

    @Test func forgetsCompletedEventsAfterTheirRetention() async throws {
        let inbox = MemoryInbox(capacity: 100, retention: .seconds(60))
        let done = try await inbox.record(newEvent("DONE"), lease: Lease(owner: "w", duration: .seconds(30)), now: t0).event
        let dead = try await inbox.record(newEvent("DEAD"), lease: Lease(owner: "w", duration: .seconds(30)), now: t0).event
        #expect(try await inbox.complete(id: done.id, owner: "w", now: t0))
        #expect(try await inbox.deadLetter(id: dead.id, owner: "w", error: "x", now: t0))
        #expect(try await inbox.prune(completedBefore: t0.addingTimeInterval(-1)) == 0)
        // Recording long after sweeps expired completed events; dead letters stay.
        _ = try await inbox.record(newEvent("NEW"), lease: nil, now: t0.addingTimeInterval(3600))
        #expect(try await inbox.list(EventFilter()).map(\.orderNo) == ["DEAD", "NEW"])
    }
}
