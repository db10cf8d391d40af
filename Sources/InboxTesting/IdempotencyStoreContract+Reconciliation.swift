import Foundation
import Inbox

/// A payment order of merchant 1 referenced as TrustPay's rule does for
/// plain order numbers (`PaymentCallback.orderReference`); type `0` payin.
/// The store treats it as opaque text: only its bytes matter.
func paymentOrder(_ orderNo: String, type: Int = 0) -> OrderReference {
    OrderReference(rawValue: "[\"payment\",1,\(type),\"\(orderNo)\"]")
}

/// A payment order of merchant 1 expected since `date`.
func expectedOrder(_ orderNo: String, type: Int = 0, at date: Date) -> ExpectedOrder {
    ExpectedOrder(merchantID: 1, orderType: type, orderNo: orderNo, order: paymentOrder(orderNo, type: type), expectedAt: date)
}

/// A payment event keyed and referenced as the pipeline does for plain
/// order and refund numbers (`PaymentCallback.idempotencyKey`,
/// `PaymentCallback.orderReference`), merchant 1, payin.
func reconciliationEvent(
    _ order: String, status: Int, rank: Int?, refunds: [String] = [], source: EventSource = .callback,
    hash: String? = nil, at offset: Double = 0
) -> NewInboxEvent {
    let refundList = "[" + refunds.map { "\"\($0)\"" }.joined(separator: ",") + "]"
    return NewInboxEvent(
        key: IdempotencyKey(rawValue: "[\"payment\",1,0,\"\(order)\",\(status),\(refundList)]"),
        contentHash: hash ?? "\(source)-\(order)-\(status)-\(refunds.count)", kind: .payment, merchantID: 1,
        orderType: 0, orderNo: order, status: status,
        order: paymentOrder(order), statusRank: rank, source: source,
        rawBody: Array("{\"order_no\":\"\(order)\",\"status\":\(status),\"source\":\"\(source)\"}".utf8),
        receivedAt: NewInboxEvent.testEpoch.addingTimeInterval(offset))
}

extension ContractRun {
    func matchesReconciledEventsWithCallbacks() async throws {
        // Callback first: the answer repeats it, refund numbers or not.
        let partial = try await recordNew(reconciliationEvent("A", status: 8, rank: 4, refunds: ["RF-1"]))
        let answer = try await store.record(
            reconciliationEvent("A", status: 8, rank: 4, source: .orderQuery), lease: .none, now: at(1))
        try expect(answer == .duplicate(partial), "an answer telling a stored status is .duplicate of it; got \(answer)")
        let sameKey = try await recordNew(reconciliationEvent("B", status: 5, rank: 1))
        let sameKeyAnswer = try await store.record(
            reconciliationEvent("B", status: 5, rank: 1, source: .orderQuery), lease: .none, now: at(1))
        try expect(sameKeyAnswer == .duplicate(sameKey) && sameKeyAnswer.event.conflicts == 0,
                   "an answer with the callback's key is a duplicate, not a conflict; got \(sameKeyAnswer)")

        // The answer first: the callback that follows is a duplicate.
        let reconciled = try await recordNew(reconciliationEvent("C", status: 7, rank: 5, source: .orderQuery))
        try expect(reconciled.source == .orderQuery, "the event keeps its source; got \(reconciled)")
        let stored = try await store.event(id: reconciled.id)
        try expect(stored?.source == .orderQuery && stored?.rawBody == reconciled.rawBody,
                   "source and raw answer are stored; got \(String(describing: stored))")
        let late = try await store.record(
            reconciliationEvent("C", status: 7, rank: 5, refunds: ["RF-9"]), lease: .none, now: at(2))
        try expect(late == .duplicate(reconciled), "a late callback of that order and status is .duplicate; got \(late)")
        let lateSameKey = try await store.record(reconciliationEvent("C", status: 7, rank: 5), lease: .none, now: at(2))
        try expect(lateSameKey == .duplicate(reconciled) && lateSameKey.event.conflicts == 0,
                   "a late callback with the answer's key is a duplicate, not a conflict; got \(lateSameKey)")
        let again = try await store.record(
            reconciliationEvent("C", status: 7, rank: 5, source: .orderQuery, hash: "other answer"), lease: .none, now: at(3))
        try expect(again == .duplicate(reconciled), "a second answer with that status is .duplicate; got \(again)")

        // Other statuses of the order are other events, tracked as callbacks are.
        let earlier = try await recordNew(reconciliationEvent("C", status: 5, rank: 1, at: 3))
        try expect(earlier.previousStatus == 7 && earlier.isStale,
                   "a callback behind a reconciled status is stale, after it; got \(earlier)")
        let next = try await recordNew(reconciliationEvent("D", status: 5, rank: 1))
        let moved = try await recordNew(reconciliationEvent("D", status: 6, rank: 2, source: .orderQuery, at: 1))
        try expect(moved.previousStatus == 5 && !moved.isStale && next.source == .callback,
                   "a reconciled status moves its order on; got \(moved)")
        let after = try await recordNew(reconciliationEvent("D", status: 7, rank: 5, refunds: ["RF-1"], at: 2))
        try expect(after.previousStatus == 6, "the reconciled status is the order's last; got \(after)")
        try expect(try await store.list(EventFilter()).count == 7, "seven events in all")
    }

    func reconciliation() throws -> any ReconciliationStore {
        guard let store = store as? any ReconciliationStore else {
            throw violation("the store is a ReconciliationStore")
        }
        return store
    }

    func choosesTheOrdersToReconcile() async throws {
        let reconciliation = try reconciliation()
        let finals: Set<Int> = [2, 3, 4, 5, 6, 7, 8]
        try await recordNew(reconciliationEvent("PENDING", status: 1, rank: 0))
        try await recordNew(reconciliationEvent("PAID", status: 5, rank: 1))
        try await recordNew(reconciliationEvent("REFUNDING", status: 5, rank: 1))
        try await recordNew(reconciliationEvent("REFUNDING", status: 9, rank: 3, at: 100))
        try await recordNew(reconciliationEvent("OLD", status: 1, rank: 0, at: -1000))
        try await recordNew(reconciliationEvent("STALE", status: 7, rank: 5))
        try await recordNew(reconciliationEvent("STALE", status: 1, rank: 0, at: 10))
        try await recordNew(newEvent("CARD", status: 1, kind: .card))
        let expected = expectedOrder("EXPECTED", type: 1, at: at(0))
        try expect(try await reconciliation.expect(expected), "a new expected order is new")
        try expect(!(try await reconciliation.expect(expected)), "registering it again is not")
        for (order, offset) in [("PENDING", 0.0), ("LATER", 150), ("TOO-OLD", -1000)] {
            try await reconciliation.expect(expectedOrder(order, at: at(offset)))
        }

        let early = try await reconciliation.reconciliationCandidates(
            finalStatuses: finals, quietSince: at(60), notBefore: at(-500), limit: 10)
        let earlyNames = early.map { "\($0.orderNo):\($0.reason.rawValue):\($0.lastStatus.map(String.init) ?? "-")" }
        try expect(Set(earlyNames) == ["PENDING:not-final:1", "EXPECTED:expected:-"] && early.count == 2,
                   "quiet for 60 s: the pending order and the expected one; not final, recent, old, stale-final or "
                       + "card orders, nor an expected order with events; got \(earlyNames)")
        let payout = early.first { $0.orderNo == "EXPECTED" }
        try expect(payout?.orderType == 1 && payout?.merchantID == 1 && payout?.since == at(0),
                   "an expected order keeps its type, merchant and time; got \(String(describing: payout))")
        let later = try await reconciliation.reconciliationCandidates(
            finalStatuses: finals, quietSince: at(200), notBefore: at(-500), limit: 10)
        try expect(Set(later.map(\.orderNo)) == ["PENDING", "EXPECTED", "REFUNDING", "LATER"],
                   "quiet for 200 s: the refunding order and the later expected one too; got \(later)")
        let wider = try await reconciliation.reconciliationCandidates(
            finalStatuses: finals, quietSince: at(200), notBefore: at(-2000), limit: 10)
        try expect(Set(wider.map(\.orderNo)) == ["PENDING", "EXPECTED", "REFUNDING", "LATER", "OLD", "TOO-OLD"],
                   "a longer maximum age takes the old ones; got \(wider.map(\.orderNo))")
        let first = try await reconciliation.reconciliationCandidates(
            finalStatuses: finals, quietSince: at(200), notBefore: at(-2000), limit: 2)
        try expect(first.map(\.orderNo) == ["OLD", "TOO-OLD"], "a limit keeps the oldest; got \(first.map(\.orderNo))")

        // The expected order's first event makes it an ordinary order.
        try await recordNew(
            NewInboxEvent(
                key: IdempotencyKey(rawValue: #"["payment",1,1,"EXPECTED",2,[]]"#), contentHash: "paid", kind: .payment,
                merchantID: 1, orderType: 1, orderNo: "EXPECTED", status: 2,
                order: paymentOrder("EXPECTED", type: 1), statusRank: 1,
                rawBody: Array("{}".utf8), receivedAt: at(5)))
        let settled = try await reconciliation.reconciliationCandidates(
            finalStatuses: finals, quietSince: at(60), notBefore: at(-500), limit: 10)
        try expect(settled.map(\.orderNo) == ["PENDING"], "a final status ends the wait; got \(settled.map(\.orderNo))")
    }

    func queryLeasesAreExclusiveUntilTheyExpire() async throws {
        let reconciliation = try reconciliation()
        let order = paymentOrder("A")
        try expect(try await reconciliation.takeQueryLease(order: order, owner: "r1", until: at(30), now: at(0)),
                   "a free lease is taken")
        try expect(!(try await reconciliation.takeQueryLease(order: order, owner: "r2", until: at(40), now: at(10))),
                   "a live lease is not taken by another")
        try expect(try await reconciliation.takeQueryLease(order: order, owner: "r1", until: at(30), now: at(10)),
                   "its holder renews it")
        try expect(
            try await reconciliation.takeQueryLease(
                order: paymentOrder("B"), owner: "r2", until: at(40), now: at(10)),
            "another order's lease is another lease")
        try expect(try await reconciliation.takeQueryLease(order: order, owner: "r2", until: at(60), now: at(30)),
                   "an expired lease is taken")
        let winners = try await withThrowingTaskGroup(of: Bool.self) { group in
            for replica in 0..<8 {
                group.addTask {
                    try await reconciliation.takeQueryLease(
                        order: paymentOrder("C"), owner: "r\(replica)",
                        until: self.at(30), now: self.at(0))
                }
            }
            return try await group.reduce(into: 0) { $0 += $1 ? 1 : 0 }
        }
        try expect(winners == 1, "of 8 replicas asking together, one gets the lease; got \(winners)")

        // Ended leases and expected orders past their age are forgotten.
        try await reconciliation.expect(expectedOrder("OLD", at: at(-100)))
        try await reconciliation.expect(expectedOrder("NEW", at: at(0)))
        let forgotten = try await reconciliation.forgetReconciliation(expectedBefore: at(-50), leasesEndedBefore: at(35))
        try expect(forgotten == 2, "the expected order of -100 s and C's lease (ended at 30 s; A's and B's have not); got \(forgotten)")
        try expect(
            try await reconciliation.takeQueryLease(
                order: paymentOrder("C"), owner: "r9", until: at(90), now: at(1)),
            "a forgotten lease is free")
        try expect(
            !(try await reconciliation.takeQueryLease(
                order: paymentOrder("B"), owner: "r9", until: at(90), now: at(1))),
            "a lease that has not ended stays")
        let waiting = try await reconciliation.reconciliationCandidates(
            finalStatuses: [], quietSince: at(10), notBefore: at(-1000), limit: 10)
        try expect(waiting.map(\.orderNo) == ["NEW"], "the old expected order is gone; got \(waiting.map(\.orderNo))")
    }
}
