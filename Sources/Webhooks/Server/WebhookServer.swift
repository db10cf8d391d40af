import HTTPServer
import Inbox
import Logging
import TrustPay

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
/// try await webhooks.run(http: HTTPServerConfiguration(host: "0.0.0.0", port: 8080))
/// ```
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

    /// Starts, then returns when the server has stopped: on SIGTERM or SIGINT
    /// when `handlingSignals`, after draining requests in flight.
    public func run(http: HTTPServerConfiguration, handlingSignals: Bool = true) async throws {
        let running = try start(http: http)
        if handlingSignals {
            ShutdownSignals.install { _ in running.shutdown() }
        }
        await running.waitUntilStopped()
    }
}
