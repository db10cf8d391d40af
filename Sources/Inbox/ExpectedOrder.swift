import Foundation

/// An order the merchant created and expects a callback for: if none comes
/// within `reconcile.after`, reconciliation asks TrustPay about it.
public struct ExpectedOrder: Sendable, Equatable {
    public var merchantID: Int64
    /// TrustPay's order type code (`0` payin, `1` payout).
    public var orderType: Int
    public var orderNo: String
    /// The reference its events will carry (TrustPay derives it from the
    /// three fields above), so that a store finds them.
    public var order: OrderReference
    /// When it was registered: its age counts from here.
    public var expectedAt: Date

    public init(merchantID: Int64, orderType: Int, orderNo: String, order: OrderReference, expectedAt: Date) {
        self.merchantID = merchantID
        self.orderType = orderType
        self.orderNo = orderNo
        self.order = order
        self.expectedAt = expectedAt
    }
}

/// An order reconciliation should ask TrustPay about.
public struct ReconciliationCandidate: Sendable, Equatable, CustomStringConvertible {
    public enum Reason: String, Sendable, Equatable {
        /// Its last recorded status is not final and has not moved for `reconcile.after`.
        case notFinal = "not-final"
        /// Expected, with no event recorded for `reconcile.after`.
        case expected
    }

    public var merchantID: Int64
    /// TrustPay's order type code (`0` payin, `1` payout).
    public var orderType: Int
    public var orderNo: String
    /// The last status recorded; `nil` for an expected order without events.
    public var lastStatus: Int?
    public var reason: Reason
    /// When the order was first seen (its first event, or its registration).
    public var since: Date

    public init(merchantID: Int64, orderType: Int, orderNo: String, lastStatus: Int?, reason: Reason, since: Date) {
        self.merchantID = merchantID
        self.orderType = orderType
        self.orderNo = orderNo
        self.lastStatus = lastStatus
        self.reason = reason
        self.since = since
    }

    public var description: String {
        "order type \(orderType) \(orderNo) of merchant \(merchantID) (\(reason)\(lastStatus.map { ", last status \($0)" } ?? ""))"
    }
}

/// What reconciliation needs from an inbox besides recording: expected
/// orders, the orders worth querying, and a lease per queried order so that
/// several replicas sharing a database do not query one order together.
///
/// The memory, SQLite and PostgreSQL inboxes implement it.
public protocol ReconciliationStore: Sendable {
    /// Registers an expected order; registering it again keeps the first
    /// registration time. Returns whether it was new.
    @discardableResult
    func expect(_ order: ExpectedOrder) async throws -> Bool

    /// The payment orders to query at `now`, oldest first, at most `limit`:
    /// - those whose last recorded status (the order's last status, stale
    ///   events aside) is not in `finalStatuses` and whose latest event was
    ///   received before `quietSince`;
    /// - expected orders registered before `quietSince` with no event at all;
    ///
    /// leaving out orders first seen before `notBefore` (too old to bother).
    func reconciliationCandidates(
        finalStatuses: Set<Int>, quietSince: Date, notBefore: Date, limit: Int
    ) async throws -> [ReconciliationCandidate]

    /// Takes the query lease of `order` for `owner` until `until`, unless
    /// someone else holds it at `now`. Only the holder queries the order.
    func takeQueryLease(order: OrderReference, owner: String, until: Date, now: Date) async throws -> Bool

    /// Forgets expected orders registered before `expectedBefore` (past
    /// `reconcile.max_age`, they are never queried) and query leases that
    /// ended before `leasesEndedBefore`, so neither table grows for ever.
    /// Returns how many rows went.
    @discardableResult
    func forgetReconciliation(expectedBefore: Date, leasesEndedBefore: Date) async throws -> Int
}
