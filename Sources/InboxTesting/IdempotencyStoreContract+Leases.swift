import Foundation
import Inbox

/// The requirements on ``LeaseRequest/ifFirstOfOrder(_:)``: an event recorded
/// already leased to the workers of the process that records it, only when
/// no earlier event of its order is unfinished.
extension ContractRun {
    func ifFirst(_ owner: String) -> LeaseRequest { .ifFirstOfOrder(Lease(owner: owner, duration: lease)) }

    func aConditionalLeaseClaimsOnlyTheFirstOfAnOrder() async throws {
        let a1 = try await recordNew(newEvent("A", status: 5, rank: 1), lease: ifFirst("hand-off"))
        try expect(a1.state == .processing(owner: "hand-off", leaseUntil: at(30)) && a1.attempts == 1,
                   "the first event of an idle order is leased: processing by the owner until now + duration, attempt 1; got \(a1)")
        // Behind a processing event.
        let a2 = try await recordNew(newEvent("A", status: 8, rank: 2, at: 1), lease: ifFirst("hand-off"))
        try expect(a2.state == .pending && a2.attempts == 0,
                   "an event behind a processing one of its order is left pending; got \(a2)")
        // Behind a pending event (recorded without a lease).
        let b1 = try await recordNew(newEvent("B", status: 5, rank: 1, at: 2))
        let b2 = try await recordNew(newEvent("B", status: 8, rank: 2, at: 3), lease: ifFirst("hand-off"))
        try expect(b1.state == .pending && b2.state == .pending,
                   "an event behind a pending one of its order is left pending; got \(b2)")
        // Behind a waiting retry.
        let c1 = try await recordNew(newEvent("C", status: 5, rank: 1, at: 4), lease: ifFirst("hand-off"))
        try expect(try await store.fail(id: c1.id, owner: "hand-off", error: "down", retryAt: at(100), now: at(5)),
                   "the holder fails C's first")
        let c2 = try await recordNew(newEvent("C", status: 8, rank: 2, at: 6), lease: ifFirst("hand-off"))
        try expect(c2.state == .pending, "an event behind a waiting retry of its order is left pending; got \(c2)")
        // Behind a finished event: idle again.
        let d1 = try await recordNew(newEvent("D", status: 5, rank: 1, at: 7), lease: ifFirst("hand-off"))
        try expect(try await store.complete(id: d1.id, owner: "hand-off", now: at(8)), "the holder completes D's first")
        let d2 = try await recordNew(newEvent("D", status: 8, rank: 2, at: 9), lease: ifFirst("hand-off"))
        try expect(d2.state == .processing(owner: "hand-off", leaseUntil: at(30)) && d2.attempts == 1,
                   "an order whose events are all completed is idle: leased; got \(d2)")
        try expect(try await store.deadLetter(id: d2.id, owner: "hand-off", error: "gone", now: at(10)), "D's second dies")
        let d3 = try await recordNew(newEvent("D", status: 7, rank: 3, at: 11), lease: ifFirst("hand-off"))
        try expect(d3.state == .processing(owner: "hand-off", leaseUntil: at(30)), "a dead letter holds nothing back; got \(d3)")
        // Repeats never lease, whatever was asked.
        let repeatOfPending = try await store.record(newEvent("B", status: 5, rank: 1, at: 2), lease: ifFirst("other"), now: at(12))
        try expect(repeatOfPending == .duplicate(b1), "a duplicate of a pending event changes nothing; got \(repeatOfPending)")
        let conflict = try await store.record(
            newEvent("B", status: 5, rank: 1, hash: "h2", at: 2), lease: ifFirst("other"), now: at(12))
        try expect(conflict.event.id == b1.id && conflict.event.state == .pending && conflict.event.attempts == 0,
                   "a conflict never leases; got \(conflict)")
        try expect(try await store.complete(id: d3.id, owner: "hand-off", now: at(13)), "D's third completes")
        let repeatOfDone = try await store.record(newEvent("D", status: 7, rank: 3, at: 11), lease: ifFirst("other"), now: at(14))
        try expect(repeatOfDone.event.state == .completed(at: at(13)) && { if case .duplicate = repeatOfDone { true } else { false } }(),
                   "a duplicate of a completed event is not leased again, even with its order idle; got \(repeatOfDone)")
        let stored = try await store.list(EventFilter(orderNo: "B"))
        try expect(stored.allSatisfy { $0.state == .pending }, "B's events are still pending; got \(stored)")
    }

    func aConditionallyLeasedEventHoldsItsOrder() async throws {
        let first = try await recordNew(newEvent("A", status: 5, rank: 1), lease: ifFirst("hand-off"))
        let second = try await recordNew(newEvent("A", status: 8, rank: 2, at: 1), lease: ifFirst("hand-off"))
        let other = try await recordNew(newEvent("B", status: 5, rank: 1, at: 2))
        func claimed(_ owner: String, at seconds: Double) async throws -> [InboxEvent] {
            try await store.claimDue(owner: owner, limit: 10, leaseDuration: lease, now: at(seconds))
        }
        let due = try await claimed("w", at: 3)
        try expect(due.map(\.id) == [other.id],
                   "neither the leased event nor the one held behind it is due, another order's is; got \(due.map(\.orderNo))")
        try expect(try await claimed("w", at: 29.999).isEmpty, "still not due while the lease is live")
        try expect(try await store.claim(id: first.id, owner: "x", leaseDuration: lease, now: at(29)) == nil,
                   "nor claimable by id while the lease is live")
        // The holder completes it: the next event of its order is due.
        try expect(try await store.complete(id: first.id, owner: "hand-off", now: at(10)), "the lease holder completes it")
        let next = try await claimed("w", at: 11)
        try expect(next.map(\.id) == [second.id] && next.first?.attempts == 1,
                   "completing the leased event lets the next of its order be claimed, as attempt 1; got \(next)")
        // A holder that dies: its lease ends, and the event is taken over before the later ones.
        let third = try await recordNew(newEvent("C", status: 5, rank: 1, at: 12), lease: ifFirst("hand-off"))
        let fourth = try await recordNew(newEvent("C", status: 8, rank: 2, at: 13))
        try expect(third.state.name == .processing && fourth.state == .pending, "C's first is leased, its second pending")
        let takenOver = try await claimed("v", at: 30)
        try expect(takenOver.map(\.id) == [third.id] && takenOver.first?.attempts == 2,
                   "from the end of its lease the leased event is claimable, as attempt 2, its order's next still held; got \(takenOver)")
    }
}
