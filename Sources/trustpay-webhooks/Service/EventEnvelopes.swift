import BuiltinHandlers
import Webhooks

/// The built-in handlers' view of pipeline events.
extension EventEnvelope {
    init(_ event: PaymentEvent) {
        let callback = event.callback
        self.init(
            eventID: event.eventID, kind: "payment", merchantID: callback.merchantID, orderNo: callback.orderNo,
            type: "\(callback.type)", status: callback.status.code, previousStatus: event.previousStatus?.code,
            stale: event.isStale, attempt: event.attempt.number, receivedAt: event.receivedAt,
            source: event.source.rawValue, rawBody: callback.rawBody)
    }

    init(_ event: CardEvent) {
        let callback = event.callback
        self.init(
            eventID: event.eventID, kind: "card", merchantID: event.merchantID, orderNo: callback.orderNo,
            type: callback.kind.rawValue, status: callback.status, previousStatus: event.previousStatus,
            stale: false, attempt: event.attempt.number, receivedAt: event.receivedAt, source: event.source.rawValue,
            rawBody: callback.rawBody)
    }
}
