import Foundation
import Inbox
import Logging
import TrustPay

extension NewInboxEvent {
    /// The event an Order Query answer tells: keyed, referenced and ranked as
    /// the callback it stands for (`PaymentCallback(orderQueryAnswer:)`),
    /// with source `.orderQuery`, the answer as its raw body, and the MD5 of
    /// the answer's bytes as its content hash.
    public static func reconciled(answer: [UInt8], receivedAt: Date) throws(CallbackDecodingError) -> NewInboxEvent {
        .payment(
            try PaymentCallback(orderQueryAnswer: answer), contentHash: PaymentCallback.contentHash(ofOrderQueryAnswer: answer),
            source: .orderQuery, rawBody: answer, receivedAt: receivedAt)
    }
}

extension WebhookPipeline {
    /// Records an event reconciliation built from an Order Query answer, as
    /// a callback's would be (same store, same key rule), and wakes the
    /// workers when it is new so that its handlers run.
    public func recordReconciled(_ new: NewInboxEvent) async throws -> RecordOutcome {
        let outcome = try await store.record(new, lease: .none, now: Date())
        switch outcome {
        case .recorded(let event):
            metrics.stored(.recorded, kind: event.kind)
            wakeWorkers()
        case .duplicate(let event):
            metrics.stored(.duplicate, kind: event.kind)
        case .conflict(let event):
            metrics.stored(.conflict, kind: event.kind)
        }
        return outcome
    }
}

extension WebhookServer {
    /// Registers an order the merchant created and expects a callback for:
    /// when none arrives within `reconcile.after`, reconciliation asks
    /// TrustPay's Order Query API about it.
    ///
    /// ```swift
    /// let order = try await shop.createPayin(…)
    /// try await webhooks.expect(orderNo: order.number, merchantID: 8820250900009)
    /// ```
    /// - Returns: whether it was new (registering again keeps the first time).
    /// - Throws: ``StoreError`` when the store is unavailable or keeps no
    ///   expected orders (not a ``ReconciliationStore``).
    @discardableResult
    public func expect(orderNo: String, merchantID: Int64, type: OrderType = .payin, now: Date = Date()) async throws
        -> Bool
    {
        guard let store = store as? any ReconciliationStore else {
            throw StoreError.unavailable("this store keeps no expected orders (it is not a ReconciliationStore)")
        }
        return try await store.expect(ExpectedOrder(merchantID: merchantID, type: type, orderNo: orderNo, expectedAt: now))
    }
}
