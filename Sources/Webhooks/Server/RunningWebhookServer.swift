import HTTPServer
import Logging

/// A started ``WebhookServer``: its HTTP listeners and its dispatch workers.
public final class RunningWebhookServer: Sendable {
    public let pipeline: WebhookPipeline
    public let http: HTTPServer
    /// The bound addresses, with real ports where port 0 was asked.
    public let addresses: [SocketAddress]
    private let workers: Task<Void, Never>
    private let logger: Logger

    init(pipeline: WebhookPipeline, http configuration: HTTPServerConfiguration, logger: Logger) throws {
        self.pipeline = pipeline
        self.logger = logger
        http = HTTPServer(configuration: configuration, router: pipeline.router, logger: logger)
        addresses = try http.start()
        workers = Task { await pipeline.runWorkers() }
    }

    /// Stops accepting requests and lets those in flight finish within
    /// `drainTimeout`; the workers stop once the server has.
    /// Returns at once.
    public func shutdown(drainTimeout: Duration? = nil) {
        http.shutdown(drainTimeout: drainTimeout)
    }

    /// Suspends until the HTTP server has stopped, then stops the workers
    /// (an event in progress keeps its lease and runs again later).
    public func waitUntilStopped() async {
        await http.waitUntilStopped()
        workers.cancel()
        await workers.value
        logger.info("webhook server stopped")
    }
}
