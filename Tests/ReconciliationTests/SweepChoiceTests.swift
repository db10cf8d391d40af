import Foundation
import Inbox
import Logging
import Reconciliation
import Testing
import TrustPay
import TrustPayAPI
import TrustPayWebhooksTesting
import Webhooks

/// Which orders a sweep asks TrustPay about, and what it records: on the
/// memory inbox with a fake API (the stores' own choice is proven for all
/// three by the store contract).
@Suite struct SweepChoiceTests {
    static let policy = ReconciliationPolicy(
        interval: .seconds(60), after: .seconds(900), maxAge: .seconds(7 * 86400), concurrency: 3)
    static let logger: Logger = {
        var logger = Logger(label: "reconciliation-tests")
        logger.logLevel = .critical
        return logger
    }()

    /// An inbox holding, for merchant 1 unless said: `PENDING` (status 1,
    /// 20 minutes ago), `PAID` (5, 20 minutes ago), `RECENT` (1, a minute
    /// ago), `OLD` (1, 8 days ago), `OTHER-MERCHANT` (1 of merchant 2, which
    /// has no API key), and `EXPECTED`, expected 20 minutes ago.
    static func inbox(now: Date) async throws -> MemoryInbox {
        let inbox = MemoryInbox()
        func record(_ orderNo: String, status: Int, merchant: Int64 = 1, ago seconds: Double) async throws {
            let body = Array(
                #"{"type":0,"merchant_id":\#(merchant),"order_no":"\#(orderNo)","status":\#(status),"order_amount":106}"#.utf8)
            let callback = try PaymentCallback(body: body)
            let event = NewInboxEvent(
                key: .payment(callback), contentHash: "h-\(orderNo)-\(status)", kind: .payment, merchantID: merchant,
                orderType: 0, orderNo: orderNo, status: status, order: .payment(callback),
                statusRank: OrderProgress.rank(of: callback.status), rawBody: body,
                receivedAt: now.addingTimeInterval(-seconds))
            _ = try await inbox.record(event, lease: .none, now: now)
        }
        try await record("PENDING", status: 1, ago: 1200)
        try await record("PAID", status: 5, ago: 1200)
        try await record("RECENT", status: 1, ago: 60)
        try await record("OLD", status: 1, ago: 8 * 86400)
        try await record("OTHER-MERCHANT", status: 1, merchant: 2, ago: 1200)
        try await inbox.expect(ExpectedOrder(merchantID: 1, orderNo: "EXPECTED", expectedAt: now.addingTimeInterval(-1200)))
        return inbox
    }

    static func sweep(_ inbox: MemoryInbox, _ api: FakeOrderQuerying, owner: String = "replica-a") -> ReconciliationSweep {
        let reconciler = Reconciler(
            client: api, merchants: [1], record: { try await inbox.record($0, lease: .none, now: Date()) }, logger: logger)
        return ReconciliationSweep(store: inbox, reconciler: reconciler, policy: policy, owner: owner, logger: logger)
    }

    @Test func queriesOrdersStuckOrExpectedAfterTheWaitAndRecordsWhatIsNew() async throws {
        let now = Date()
        let inbox = try await Self.inbox(now: now)
        let api = FakeOrderQuerying()
        api.answer("PENDING", status: 5)
        api.answer("EXPECTED", status: 3)
        let report = await Self.sweep(inbox, api).sweep(now: now)
        #expect(Set(api.queries) == ["PENDING", "EXPECTED"], "not final or expected, quiet for 15 min, not too old: \(api.queries)")
        #expect(report.waiting == 3 && report.notConfigured == 1 && report.recorded == 2 && report.failed == 0, "\(report)")
        let recovered = try await inbox.list(EventFilter()).filter { $0.source == .orderQuery }
        #expect(Set(recovered.map { "\($0.orderNo) \($0.status)" }) == ["PENDING 5", "EXPECTED 3"])
        let pending = try #require(recovered.first { $0.orderNo == "PENDING" })
        #expect(pending.previousStatus == 1 && !pending.isStale && pending.rawBody == FakeOrderQuerying.answer("PENDING", status: 5))

        // Both are final now: the next sweep asks about nothing.
        let next = await Self.sweep(inbox, api).sweep(now: now.addingTimeInterval(120))
        #expect(next.queried.isEmpty && api.queries.count == 2, "\(next)")
    }

    @Test func anAnswerThatIsNotASuccessRecordsNothing() async throws {
        let now = Date()
        let inbox = try await Self.inbox(now: now)
        let api = FakeOrderQuerying()
        api.fail("PENDING", with: .provider(code: TrustPayAPICode(code: 880011), message: "unauthorized"))
        // EXPECTED is unknown to the fake: a non-success code.
        let before = try await inbox.list(EventFilter()).count
        let report = await Self.sweep(inbox, api).sweep(now: now)
        #expect(report.failed == 2 && report.recorded == 0, "\(report)")
        #expect(try await inbox.list(EventFilter()).count == before)
    }

    @Test func aStatusAlreadyHeldIsNotRecordedAgain() async throws {
        let now = Date()
        let inbox = try await Self.inbox(now: now)
        let api = FakeOrderQuerying()
        api.answer("PENDING", status: 1)  // still pending
        api.answer("EXPECTED", status: 1)
        let first = await Self.sweep(inbox, api).sweep(now: now)
        #expect(first.recorded == 1, "EXPECTED's first status is new; PENDING's is held: \(first)")
        let later = now.addingTimeInterval(1000)
        let second = await Self.sweep(inbox, api).sweep(now: later)
        #expect(second.recorded == 0 && Set(second.queried) == ["PENDING", "EXPECTED", "RECENT"],
                "still pending and quiet past the wait (RECENT too, now): asked again, nothing new: \(second)")
    }

    @Test func anOrderAnotherReplicaHoldsIsLeftToIt() async throws {
        let now = Date()
        let inbox = try await Self.inbox(now: now)
        let api = FakeOrderQuerying()
        api.answer("PENDING", status: 5)
        api.answer("EXPECTED", status: 5)
        #expect(
            try await inbox.takeQueryLease(
                order: .payment(merchantID: 1, type: .payin, orderNo: "PENDING"), owner: "replica-b",
                until: now.addingTimeInterval(60), now: now))
        let report = await Self.sweep(inbox, api).sweep(now: now)
        #expect(api.queries == ["EXPECTED"] && report.leasedElsewhere == 1, "\(report)")
        // EXPECTED's lease is replica-a's for one interval now; PENDING is still replica-b's.
        #expect(
            !(try await inbox.takeQueryLease(
                order: .payment(merchantID: 1, type: .payin, orderNo: "EXPECTED"), owner: "replica-c",
                until: now.addingTimeInterval(70), now: now.addingTimeInterval(10))))
        let other = await Self.sweep(inbox, api, owner: "replica-c").sweep(now: now.addingTimeInterval(1))
        #expect(other.queried.isEmpty && other.leasedElsewhere == 1, "\(other)")
    }
}
