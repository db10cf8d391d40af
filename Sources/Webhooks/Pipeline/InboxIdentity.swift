import Foundation
import Inbox
import TrustPay

// The inbox keeps keys and order references as opaque text; TrustPay says
// how a callback makes them (`PaymentCallback.idempotencyKey` and the like).
// These build the inbox's values from TrustPay's texts, and nothing else.

extension IdempotencyKey {
    /// The key of a payment callback, or of an Order Query answer read as one.
    public static func payment(_ callback: PaymentCallback) -> IdempotencyKey {
        IdempotencyKey(rawValue: callback.idempotencyKey)
    }

    /// The key of a card callback that arrived on `merchantID`'s route.
    public static func card(_ callback: CardCallback, merchantID: Int64) -> IdempotencyKey {
        IdempotencyKey(rawValue: callback.idempotencyKey(merchantID: merchantID))
    }
}

extension OrderReference {
    public static func payment(_ callback: PaymentCallback) -> OrderReference {
        OrderReference(rawValue: callback.orderReference)
    }

    /// A payin or payout order, as reconciliation names the orders it queries.
    public static func payment(merchantID: Int64, type: OrderType, orderNo: String) -> OrderReference {
        OrderReference(rawValue: PaymentCallback.orderReference(merchantID: merchantID, type: type, orderNo: orderNo))
    }

    public static func card(_ callback: CardCallback, merchantID: Int64) -> OrderReference {
        OrderReference(rawValue: callback.orderReference(merchantID: merchantID))
    }
}

extension ExpectedOrder {
    /// A payment order expected from `merchantID`, referenced as its callbacks will be.
    public init(merchantID: Int64, type: OrderType = .payin, orderNo: String, expectedAt: Date) {
        self.init(
            merchantID: merchantID, orderType: type.rawValue, orderNo: orderNo,
            order: .payment(merchantID: merchantID, type: type, orderNo: orderNo), expectedAt: expectedAt)
    }

    public var type: OrderType { OrderType(rawValue: orderType) }
}

extension ReconciliationCandidate {
    public var type: OrderType { OrderType(rawValue: orderType) }

    /// The order as its events reference it: whose query lease to take.
    public var order: OrderReference { .payment(merchantID: merchantID, type: type, orderNo: orderNo) }
}

extension NewInboxEvent {
    /// A payment's event: keyed, referenced and ranked by TrustPay's rules.
    /// `contentHash` and `rawBody` are what was verified (a callback) or
    /// answered (an Order Query, with `source: .orderQuery`).
    static func payment(
        _ callback: PaymentCallback, contentHash: String, source: EventSource = .callback, rawBody: [UInt8],
        receivedAt: Date
    ) -> NewInboxEvent {
        let identity = callback.identity
        return NewInboxEvent(
            key: IdempotencyKey(rawValue: identity.idempotencyKey), contentHash: contentHash, kind: .payment,
            merchantID: callback.merchantID, orderType: callback.type.rawValue, orderNo: callback.orderNo,
            status: callback.status.code, order: OrderReference(rawValue: identity.orderReference), statusRank: OrderProgress.rank(of: callback.status), source: source,
            rawBody: rawBody, receivedAt: receivedAt)
    }

    /// A card callback's event, for the merchant of the route it came on.
    /// Card statuses are unpublished: no rank, so never stale.
    static func card(_ authentic: AuthenticCallback<CardCallback>, rawBody: [UInt8], receivedAt: Date) -> NewInboxEvent {
        let callback = authentic.callback
        return NewInboxEvent(
            key: .card(callback, merchantID: authentic.merchantID), contentHash: authentic.contentHash, kind: .card,
            merchantID: authentic.merchantID, orderType: nil, orderNo: callback.orderNo, status: callback.status,
            order: .card(callback, merchantID: authentic.merchantID), statusRank: nil, rawBody: rawBody,
            receivedAt: receivedAt)
    }
}
