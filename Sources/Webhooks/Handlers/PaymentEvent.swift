import Foundation
import Inbox
import TrustPay

/// A verified, de-duplicated payin or payout callback, as a payment handler receives it.
///
/// ```swift
/// webhooks.onPayment { event in
///     guard !event.isStale else { return }  // e.g. 5 (unliquidated) arriving after 7 (refunded)
///     if event.callback.status == .unliquidated {
///         try await orders.markPaid(event.callback.orderNo, amount: event.callback.paidAmount)
///     }
/// }
/// ```
public struct PaymentEvent: HandlerEvent {
    public let callback: PaymentCallback
    public let attempt: DeliveryAttempt
    /// The order's last status before this callback, if one was seen.
    public let previousStatus: OrderStatus?
    /// This callback would move the order backwards (it arrived out of order).
    public let isStale: Bool
    /// `.callback`, or `.orderQuery` when reconciliation recorded the status
    /// from TrustPay's Order Query API: ``callback`` is then read from the
    /// answer (`PaymentCallback(orderQueryAnswer:)`): no refund numbers, pay
    /// time, balance or signature, and its raw body is the answer.
    public let source: EventSource

    public init(
        callback: PaymentCallback, attempt: DeliveryAttempt, previousStatus: OrderStatus?, isStale: Bool,
        source: EventSource = .callback
    ) {
        self.callback = callback
        self.attempt = attempt
        self.previousStatus = previousStatus
        self.isStale = isStale
        self.source = source
    }
}

extension PaymentEvent: CustomStringConvertible {
    public var description: String {
        "PaymentEvent(\(attempt), \(callback)\(isStale ? ", stale" : "")\(source == .orderQuery ? ", from an order query" : ""))"
    }
}
