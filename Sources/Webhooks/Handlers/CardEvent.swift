import Foundation
import Inbox
import TrustPay

/// A verified, de-duplicated open-card or recharge callback.
///
/// Card order statuses are unpublished, so a card event is never flagged
/// stale; ``previousStatus`` is given for the handler to judge.
public struct CardEvent: HandlerEvent {
    public let callback: CardCallback
    /// The merchant of the route the callback arrived on (card callbacks carry none).
    public let merchantID: Int64
    public let attempt: DeliveryAttempt
    /// The raw status last seen for this card order, if any.
    public let previousStatus: Int?
    /// Always `.callback`: card orders are not reconciled (the Order Query
    /// API answers for payments only); here so that handlers read it alike.
    public let source: EventSource

    public init(
        callback: CardCallback, merchantID: Int64, attempt: DeliveryAttempt, previousStatus: Int?,
        source: EventSource = .callback
    ) {
        self.callback = callback
        self.merchantID = merchantID
        self.attempt = attempt
        self.previousStatus = previousStatus
        self.source = source
    }
}

extension CardEvent: CustomStringConvertible {
    public var description: String { "CardEvent(\(attempt), merchant \(merchantID), \(callback))" }
}
