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
