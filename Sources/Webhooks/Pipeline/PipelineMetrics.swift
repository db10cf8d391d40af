import CoreMetrics

/// What the pipeline counts, through swift-metrics: the process picks the
/// backend (Prometheus in the standalone binary); with none bootstrapped
/// these cost next to nothing.
enum PipelineMetrics {
    /// Callback answers by route and status code.
    static func answered(route: String, status: Int) {
        Counter(label: "trustpay_webhooks_requests_total", dimensions: [("route", route), ("status", String(status))])
            .increment()
    }

    /// Store outcomes of verified callbacks: recorded, duplicate, conflict, unavailable.
    static func stored(_ outcome: String, kind: String) {
        Counter(label: "trustpay_webhooks_events_total", dimensions: [("outcome", outcome), ("kind", kind)]).increment()
    }

    /// Handler attempts by result: completed, retry, dead_letter.
    static func attempt(_ result: String) {
        Counter(label: "trustpay_webhooks_handler_attempts_total", dimensions: [("result", result)]).increment()
    }

    static func riskDecision(_ decision: String) {
        Counter(label: "trustpay_webhooks_risk_decisions_total", dimensions: [("decision", decision)]).increment()
    }
}
