import HTTPServer
import Inbox
import Logging
import ServiceLifecycle
import TrustPay
import UnixSignals

/// The merchant-facing entry point: configure merchants and routes, register
/// handlers, run.
///
/// ```swift
/// var webhooks = WebhookServer(merchants: [Merchant(id: 8820250900009, secret: secret)])
/// webhooks.onPayment { event in
///     try await ledger.apply(event.callback, eventID: event.eventID)
/// }
/// webhooks.onRiskControl { request in
///     request.hasWellFormedCardDigits ? .allow : .deny
/// }
/// try await webhooks.run(
///     http: HTTPServerConfiguration(host: "0.0.0.0", port: 8080), gracefulShutdownSignals: [.sigterm, .sigint])
/// ```
///
/// To run it beside services of your own, put ``services(http:)`` in your
/// `ServiceGroup`.
///
/// Handlers run at least once per event (retried on failure, and again after
/// a crash): make their effects idempotent by ``DeliveryAttempt/eventID``.
public struct WebhookServer: Sendable {
    public var configuration: WebhookConfiguration
    public var store: any IdempotencyStore
    public var logger: Logger
    public private(set) var handlers = Handlers()

    public init(
        configuration: WebhookConfiguration, store: any IdempotencyStore = MemoryInbox(),
        logger: Logger = Logger(label: "trustpay-webhooks")
    ) {
        self.configuration = configuration
        self.store = store
        self.logger = logger
    }

    /// The default configuration with these merchants.
    public init(
        merchants: [Merchant], store: any IdempotencyStore = MemoryInbox(),
        logger: Logger = Logger(label: "trustpay-webhooks")
    ) {
        self.init(configuration: WebhookConfiguration(merchants: merchants), store: store, logger: logger)
    }

    // MARK: handlers

    /// Adds a handler for payin and payout callbacks; several run in order.
    public mutating func onPayment(_ handler: @escaping Handlers.Payment) {
        handlers.payment.append(handler)
    }

    /// Adds a handler for open-card and recharge callbacks; several run in order.
    public mutating func onCard(_ handler: @escaping Handlers.Card) {
        handlers.card.append(handler)
    }

    /// Adds a handler told of callbacks that repeat a stored event's key with
    /// other signed content. It runs after the answer, once per conflict.
    public mutating func onConflict(_ handler: @escaping Handlers.Conflict) {
        handlers.conflict.append(handler)
    }

    /// Sets the risk-control decision: `.allow` → `200 allow`, `.deny` →
    /// `403`, `.unavailable`, a throw or the deadline passing → `503`.
    public mutating func onRiskControl(_ handler: @escaping Handlers.RiskControl) {
        handlers.riskControl = handler
    }

    // MARK: running

    /// The routes and workers, to mount on a server of your own.
    public func makePipeline() -> WebhookPipeline {
        WebhookPipeline(configuration: configuration, handlers: handlers, store: store, logger: logger)
    }

    /// Starts the HTTP server (use port 0 for a free port) and the workers;
    /// returns at once.
    public func start(http: HTTPServerConfiguration) throws -> RunningWebhookServer {
        try RunningWebhookServer(pipeline: makePipeline(), http: http, logger: logger)
    }

    /// Serves until the task is cancelled or one of `gracefulShutdownSignals`
    /// arrives (none by default: no process-wide signal handler is installed
    /// unless asked for), then drains requests in flight and stops the
    /// workers after the server.
    public func run(http: HTTPServerConfiguration, gracefulShutdownSignals: [UnixSignal] = []) async throws {
        let group = ServiceGroup(configuration: .init(
            services: services(http: http), gracefulShutdownSignals: gracefulShutdownSignals, logger: logger))
        try await group.run()
    }

    /// The dispatch service, the retention sweep (``WebhookConfiguration/keepCompleted``)
    /// and an HTTP server on `http`, in the order a `ServiceGroup` needs: the
    /// server stops first (and, should it stop on its own, shuts the group
    /// down), then the sweep and the workers.
    public func services(http: HTTPServerConfiguration) -> [ServiceGroupConfiguration.ServiceConfiguration] {
        let pipeline = makePipeline()
        return Self.services(pipeline: pipeline, http: Server(configuration: http, router: pipeline.router, logger: logger))
    }

    static func services(pipeline: WebhookPipeline, http: Server) -> [ServiceGroupConfiguration.ServiceConfiguration] {
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [.init(service: pipeline.dispatchService)]
        if let keep = pipeline.configuration.keepCompleted, let store = pipeline.store as? any InboxAdministration {
            services.append(.init(service: RetentionSweep(store: store, keep: keep, logger: pipeline.logger)))
        }
        services.append(.init(service: http, successTerminationBehavior: .gracefullyShutdownGroup))
        return services
    }
}
