import CoreMetrics

/// What reconciliation counts, through swift-metrics as the pipeline does.
enum ReconciliationMetrics {
    /// Order queries by outcome: `success`, `provider_error`, `http_status`,
    /// `transport`, `timed_out`, `malformed_answer`, `no_credentials`,
    /// `unusable_answer`, `store_unavailable`.
    static func query(_ outcome: String) {
        Counter(label: "trustpay_webhooks_order_queries_total", dimensions: [("outcome", outcome)]).increment()
    }

    /// Events recorded from an answer: statuses a callback never told.
    static func recovered() {
        Counter(label: "trustpay_webhooks_events_recovered_total").increment()
    }

    /// Orders the last sweep found waiting for reconciliation.
    static func waiting(_ count: Int) {
        Gauge(label: "trustpay_webhooks_orders_waiting").record(count)
    }
}
