import HTTPServer
import Logging
import ServiceLifecycle

/// A started ``WebhookServer``: its HTTP listeners and its dispatch workers,
/// run as one `ServiceGroup` (the same services ``WebhookServer/run(http:gracefulShutdownSignals:)``
/// runs), without signal handling.
public final class RunningWebhookServer: Sendable {
    public let pipeline: WebhookPipeline
    public let http: Server
    /// The bound addresses, with real ports where port 0 was asked.
    public let addresses: [SocketAddress]
    /// The one task that runs the group: `start` returns at once, so the
    /// group cannot be a child of its caller. ``waitUntilStopped()`` awaits it.
    private let group: Task<Void, Never>
    private let logger: Logger

    init(pipeline: WebhookPipeline, http configuration: HTTPServerConfiguration, logger: Logger) throws {
        self.pipeline = pipeline
        self.logger = logger
        http = Server(configuration: configuration, router: pipeline.router, logger: logger)
        addresses = try http.start()
        let services = ServiceGroup(
            configuration: .init(services: WebhookServer.services(pipeline: pipeline, http: http), logger: logger))
        group = Task { try? await services.run() }
    }

    /// Stops accepting requests and lets those in flight finish within
    /// `drainTimeout` (the configuration's when nil); the workers stop once
    /// the server has, after the handlers they are running. Returns at once.
    public func shutdown(drainTimeout: Duration? = nil) {
        // The server's service ends when its loops stop, which shuts the
        // group down gracefully (see `WebhookServer.services`).
        http.shutdown(drainTimeout: drainTimeout)
    }

    /// Suspends until the HTTP server and then the workers have stopped.
    public func waitUntilStopped() async {
        await group.value
        logger.info("webhook server stopped")
    }
}
