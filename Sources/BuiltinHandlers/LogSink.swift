import Logging

/// One structured log line per event: ids, kind, order, type, status, never
/// the body (card callbacks can carry card details) nor any secret.
public struct LogSink: EventSink {
    public let name: String
    private let logger: Logger

    public init(name: String = "log", logger: Logger) {
        self.name = name
        self.logger = logger
    }

    public func deliver(_ event: EventEnvelope) async throws {
        var metadata: Logger.Metadata = [
            "event_id": "\(event.eventID)", "kind": "\(event.kind)", "order_no": "\(event.orderNo)",
            "type": "\(event.type)", "status": "\(event.status)", "attempt": "\(event.attempt)",
        ]
        if let merchant = event.merchantID { metadata["merchant_id"] = "\(merchant)" }
        if let previous = event.previousStatus { metadata["previous_status"] = "\(previous)" }
        if event.stale { metadata["stale"] = "true" }
        logger.info("trustpay event", metadata: metadata)
    }
}
