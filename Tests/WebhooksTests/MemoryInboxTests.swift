import Foundation
import Testing
import TrustPayWebhooksTesting
import Webhooks

/// The in-memory inbox as a state machine, without sockets: the store
/// contract, then its bounds.
@Suite struct MemoryInboxTests {
    let t0 = Date(timeIntervalSince1970: 1_750_000_000)

    func newEvent(_ order: String = "O-1", status: Int = 5, rank: Int? = 1, hash: String = "h1", at offset: Double = 0) -> NewInboxEvent {
        NewInboxEvent(
            key: IdempotencyKey(rawValue: "[\"\(order)\",\(status)]"), contentHash: hash, kind: .payment,
            merchantID: 1, orderType: 0, orderNo: order, status: status,
            order: OrderReference(rawValue: order), statusRank: rank, rawBody: Array("{}".utf8),
            receivedAt: t0.addingTimeInterval(offset))
    }

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
