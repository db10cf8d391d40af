import HTTPServer
import Metrics
import Prometheus

/// Prometheus text exposition of everything counted through swift-metrics.
enum MetricsEndpoint {
    /// Bootstraps swift-metrics once per process and returns the registry.
    static let registry: PrometheusCollectorRegistry = {
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        return registry
    }()

    static func response() -> HTTPResponse {
        HTTPResponse(status: .ok, headers: [("Content-Type", "text/plain; version=0.0.4; charset=utf-8")],
                     body: registry.emitToBuffer())
    }
}
