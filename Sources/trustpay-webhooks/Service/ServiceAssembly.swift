import AccessControl
import BuiltinHandlers
import Durations
import Foundation
import HTTPServer
import Inbox
import Logging
import OperatorConsole
import ServiceConfiguration
import TrustPay
import Webhooks

/// Everything `serve` builds from the configuration, before any port is bound.
struct ServiceAssembly {
    let configuration: ServiceSettings
    let merchants: [Merchant]
    let handlers: BuiltinHandlerWiring
    /// `admin.token`, resolved; `nil` leaves the operator console off.
    let consoleToken: String?
    let logger: Logger
    /// The risk-control command's environment: the safe base and what `routes.risk_control.env` names.
    let riskControlEnvironment: [String: String]

    /// Checks what starting would trip over (`Preflight`), resolves secrets
    /// and builds handlers; every problem is a `ConfigurationError` naming
    /// its key.
    init(_ configuration: ServiceSettings, environment: [String: String], logger: Logger) throws {
        self.configuration = configuration
        self.logger = logger
        try Preflight.check(configuration, environment: environment)
        merchants = try Self.merchants(configuration.merchants, environment: environment, logger: logger)
        handlers = try BuiltinHandlerWiring(configuration.handlers, environment: environment, logger: logger)
        riskControlEnvironment = ChildEnvironment.make(passing: configuration.routes.riskControl.environment, from: environment)
        consoleToken = try configuration.admin?.token.map { source in
            let resolved = try source.resolve(key: "admin.token", environment: environment)
            if resolved.isDevelopmentFallback {
                logger.warning("DEVELOPMENT TOKEN IN USE: \(source) is unset, so the operator console opens with the development token from the configuration.")
            }
            // Nothing slows down guessing but the token's length.
            if resolved.secret.utf8.count < 16 {
                logger.warning("admin.token is shorter than 16 characters: anyone who reaches the admin listener can guess it; use a long random one (openssl rand -hex 32)")
            }
            return resolved.secret
        }
    }

    /// The operator console on the admin listener, when `admin.token` is set.
    func operatorConsole(store: any InboxAdministration) -> OperatorConsole? {
        let reconcile = configuration.reconcile
        let watch = reconcile.isEnabled
            ? ReconciliationWatch(finalStatuses: Set(reconcile.finalStatuses), after: reconcile.after, maxAge: reconcile.maxAge)
            : nil
        return consoleToken.map {
            OperatorConsole(token: $0, store: store, merchants: merchants.map(\.id), reconciliation: watch)
        }
    }

    /// The configured merchants with their secrets resolved; shared with the
    /// `send`, `sign` and `verify` commands, which need no handlers.
    static func merchants(_ settings: [MerchantSettings], environment: [String: String], logger: Logger) throws
        -> [Merchant]
    {
        var merchants: [Merchant] = []
        for (index, settings) in settings.enumerated() {
            var secrets: [String] = []
            for (secretIndex, source) in settings.secrets.enumerated() {
                let key = "merchants[\(index)].secrets[\(secretIndex)]"
                let resolved = try source.resolve(key: key, environment: environment)
                if resolved.isDevelopmentFallback {
                    logger.warning(
                        "DEVELOPMENT SECRET IN USE: \(source) is unset, so merchant \(settings.id) accepts callbacks signed with the development secret from the configuration. Set it before taking real traffic.")
                }
                secrets.append(resolved.secret)
            }
            merchants.append(Merchant(id: settings.id, secrets: secrets, numberForms: settings.numberForms.map { NumberForm($0) }))
        }
        return merchants
    }

    func httpConfiguration(host: String?, port: Int?) -> HTTPServerConfiguration {
        let server = configuration.server
        var listener = ListenerConfiguration(host: host ?? server.host, port: port ?? server.port)
        if let certificate = server.tlsCertificate, let key = server.tlsKey {
            listener.tls = TLSConfiguration(certificateChainPath: certificate, privateKeyPath: key)
        }
        var http = HTTPServerConfiguration(listeners: [listener])
        if server.eventLoops > 0 { http.eventLoops = server.eventLoops }
        http.limits.maxHeaderBytes = server.maxHeaderBytes
        http.limits.maxHeaderCount = server.maxHeaders
        http.limits.maxBodyBytes = server.maxBodyBytes
        http.maxConnections = server.maxConnections
        http.maxConnectionsPerSource = server.maxConnectionsPerSource > 0 ? server.maxConnectionsPerSource : nil
        http.headerReadTimeout = server.headerReadTimeout
        http.bodyReadTimeout = server.bodyReadTimeout
        http.idleTimeout = server.idleTimeout
        http.writeTimeout = server.writeTimeout
        http.drainTimeout = server.drainTimeout
        return http
    }

    func webhookServer(store: any IdempotencyStore, leaseOwnerPrefix: String? = nil) -> WebhookServer {
        let routes = configuration.routes
        var webhooks = WebhookConfiguration(merchants: merchants)
        webhooks.paymentRoutes = [PaymentRoute(path: routes.payment.path, dispatch: Self.mode(routes.payment.dispatch))]
        webhooks.cardRoutes = routes.cards.map {
            CardRoute(path: $0.path, merchantID: $0.merchant, dispatch: Self.mode($0.dispatch))
        }
        webhooks.riskControlPath = routes.riskControl.path
        webhooks.riskControlDeadline = routes.riskControl.deadline
        webhooks.healthPath = routes.healthz
        // With an admin listener, readiness lives there with the metrics.
        webhooks.readinessPath = configuration.admin == nil ? routes.readyz : nil
        webhooks.handlerTimeout = max(routes.payment.handlerDeadline, routes.cards.map(\.handlerDeadline).max() ?? .zero)
        webhooks.leaseDuration = configuration.store.leaseDuration
        webhooks.leaseOwnerPrefix = leaseOwnerPrefix
        let dispatch = configuration.dispatch
        webhooks.workers = dispatch.workers
        webhooks.claimBatch = dispatch.claimBatch
        webhooks.pollInterval = dispatch.pollInterval
        let retry = configuration.retry
        webhooks.retrySchedule = RetrySchedule(
            maxAttempts: retry.attempts, initialDelay: retry.initialDelay, multiplier: retry.multiplier,
            maxDelay: retry.maxDelay, jitter: retry.jitter)
        var server = WebhookServer(configuration: webhooks, store: store, logger: logger)
        handlers.register(on: &server)
        RiskControlWiring.register(routes.riskControl, environment: riskControlEnvironment, on: &server)
        return server
    }

    /// The main listener's routes: the pipeline's, metrics unless an admin
    /// listener takes them, and the access policy on the callback routes.
    func mainRouter(_ pipeline: WebhookPipeline) -> Router {
        var router = pipeline.router
        let routes = configuration.routes
        if configuration.admin == nil {
            router.add(.get, routes.metrics, .immediate { _ in MetricsEndpoint.response() })
        }
        let security = configuration.security
        let policy = AccessPolicy(allow: security.allow, trustedProxies: security.trustedProxies,
                                  ratePerSecond: security.rateLimit, burst: security.rateBurst,
                                  ipv6Prefix: security.rateIPv6Prefix)
        if !policy.isOpen {
            let callbackPaths = Set([routes.payment.path, routes.riskControl.path] + routes.cards.map(\.path))
            router.guardRoutes(callbackPaths) { policy.check($0) }
        }
        return router
    }

    /// The admin listener's routes: liveness, readiness, metrics and, with
    /// a token, the operator console.
    func adminRouter(pipeline: WebhookPipeline, console: OperatorConsole? = nil) -> Router {
        var router = Router()
        let routes = configuration.routes
        router.add(.get, routes.healthz, pipeline.healthRoute)
        router.add(.get, routes.readyz, pipeline.readinessRoute)
        router.add(.get, routes.metrics, .immediate { _ in MetricsEndpoint.response() })
        console?.register(on: &router)
        return router
    }

    private static func mode(_ setting: DispatchSetting) -> DispatchMode {
        setting == .afterHandler ? .afterHandler : .afterStore
    }
}
