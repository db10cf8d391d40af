import Logging

/// One structured log line per event: ids, kind, order, type, status, never
/// the body (card callbacks can carry card details) nor any secret.
package struct LogSink: EventSink {
    package let name: String
    private let logger: Logger
    private let json: Bool

    /// `json`: the message is one JSON object of the same fields, for log
    /// pipelines that parse messages rather than metadata.
    package init(name: String = "log", logger: Logger, json: Bool = false) {
        self.name = name
        self.logger = logger
        self.json = json
    }

    package func deliver(_ event: EventEnvelope) async throws {
        // Nothing is built for a line the log level drops: the metadata's
        // dictionary and its texts were ~2.5% of the server's CPU on the
        // memory path with `level: warning` (perf, BENCHMARKS.md session 12).
        guard logger.logLevel <= .info else { return }
        var metadata: Logger.Metadata = [
            "event_id": "\(event.eventID)", "kind": "\(event.kind)", "order_no": "\(event.orderNo)",
            "type": "\(event.type)", "status": "\(event.status)", "attempt": "\(event.attempt)",
        ]
        if let merchant = event.merchantID { metadata["merchant_id"] = "\(merchant)" }
        if let previous = event.previousStatus { metadata["previous_status"] = "\(previous)" }
        if event.stale { metadata["stale"] = "true" }
        if json {
            let fields = metadata.sorted { $0.key < $1.key }.map { "\(quoted($0.key)):\(quoted("\($0.value)"))" }
            logger.info("{\"message\":\"trustpay event\",\(fields.joined(separator: ","))}")
        } else {
            logger.info("trustpay event", metadata: metadata)
        }
    }
}
