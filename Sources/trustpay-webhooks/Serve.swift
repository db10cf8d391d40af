import ArgumentParser
import Durations
import Foundation
import HTTPServer
import Inbox
import Logging
import ServiceConfiguration
import ServiceLifecycle
import UnixSignals
import Webhooks

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the webhook server.",
        discussion: """
            With no --config the embedded defaults (config/default.yaml) are used: 127.0.0.1:8080, \
            SQLite under data/, the demo merchant 8820250900009 with its secret from TRUSTPAY_SECRET, \
            and the log handler. Invalid configuration exits with status 2 before any port is bound, \
            after the same checks check-config runs.
            """)

    @OptionGroup var options: ConfigOptions

    @Option(help: "Address to bind, overriding server.host (numeric IPv4 or IPv6).")
    var host: String?

    @Option(help: "Port to bind, overriding server.port; 0 picks a free port and logs it.")
    var port: Int?

    func validate() throws {
        if let port, !(0...65535).contains(port) { throw ValidationError("--port must be 0...65535") }
    }

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        let config = try options.load(environment: environment)
        LogSetup.bootstrap(config.logging)
        _ = MetricsEndpoint.registry  // before anything creates a counter
        let logger = Logger(label: "trustpay-webhooks")
        let assembly = try ConfigOptions.orExit2 { try ServiceAssembly(config, environment: environment, logger: logger) }
        if let host, !IPRangeCheck.isNumeric(host) {
            throw ConfigOptions.exit2(ConfigurationError(key: "--host", message: "expected a numeric IPv4 or IPv6 address"))
        }
        if let port, port != 0, let admin = config.admin, admin.port == port {
            throw ConfigOptions.exit2(config.error(
                "admin.port", "is also --port (\(port)): the callbacks listener and the admin listener need different ports"))
        }
        if config.handlers.isEmpty {
            logger.warning("handlers: [] — events are verified and stored, but nothing handles them")
        }

        // A file past RLIMIT_FSIZE (or a filesystem's largest file) is a
        // failed write, answered 503, not the end of the process.
        _ = signal(SIGXFSZ, SIG_IGN)
        Self.raiseOpenFilesLimit(for: config.server.maxConnections, logger: logger)
        // One server per SQLite file: taken before the store opens, held until exit.
        let ownership = try ClaimRecovery.ownDatabase(config.store)
        let store = try await StoreFactory.open(config.store, environment: environment, logger: logger, servingAnyway: true)
        let ownerPrefix = try await ClaimRecovery.recover(store: store, settings: config, logger: logger)
        let pipeline = assembly.webhookServer(store: store, leaseOwnerPrefix: ownerPrefix).makePipeline()
        let main = Server(
            configuration: assembly.httpConfiguration(host: host, port: port),
            router: assembly.mainRouter(pipeline), logger: logger)
        let scheme = config.server.tlsCertificate == nil ? "http" : "https"
        for address in try Self.start(main, key: port == nil ? "server.port" : "--port") {
            logger.info("callbacks on \(scheme)://\(address)")
        }
        let admin = try config.admin.map { settings in
            var http = HTTPServerConfiguration(host: settings.host, port: settings.port)
            http.eventLoops = 1
            let console = assembly.operatorConsole(store: store)
            let router = assembly.adminRouter(pipeline: pipeline, console: console)
            let server = Server(configuration: http, router: router, logger: logger)
            for address in try Self.start(server, key: "admin.port") {
                logger.info("admin on http://\(address) (\(config.routes.metrics), \(config.routes.readyz))")
                // The one line that carries the token: it is the address to open.
                if let console { logger.info("console on \(console.startURL(address: "\(address)"))") }
            }
            return server
        }
        if assembly.consoleToken == nil {
            logger.info("operator console off: it needs an admin listener with admin.token (see config/README.md)")
        }
        let reconciliation = try ConfigOptions.orExit2 {
            try ReconciliationWiring.make(
                config, environment: environment, store: store, pipeline: pipeline,
                owner: ownerPrefix ?? ClaimRecovery.hostName(), logger: logger)
        }
        // One group, stopped in reverse order on SIGTERM/SIGINT: the callbacks
        // listener drains first, then the admin listener, then the workers
        // (after the handlers they run), the sweeps, and last the store.
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = []
        if let store = store as? any Service { services.append(.init(service: store)) }
        services.append(.init(service: pipeline.dispatchService))
        services.append(.init(service: RetentionSweep(store: store, keep: config.store.keepCompleted, logger: logger)))
        if let sweep = reconciliation?.sweep { services.append(.init(service: BackgroundLoop(sweep.run))) }
        // A listener that stops on its own shuts everything down in order.
        if let admin { services.append(.init(service: admin, successTerminationBehavior: .gracefullyShutdownGroup)) }
        services.append(.init(service: main, successTerminationBehavior: .gracefullyShutdownGroup))
        let group = ServiceGroup(configuration: .init(
            services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
        try? await reconciliation?.http.shutdown()
        withExtendedLifetime(ownership) {}
        logger.info("stopped")
    }

    /// Each connection is a descriptor: a soft limit of 1024 (a common
    /// default) would cap a server configured for 10,000 without a word.
    private static func raiseOpenFilesLimit(for maxConnections: Int, logger: Logger) {
        let limit = OpenFilesLimit.raiseToHard()
        // The store, the log, the listeners and handler children need some.
        let spare = 64
        if maxConnections > limit - spare {
            logger.warning(
                "server.limits.max_connections (\(maxConnections)) exceeds what the open-files limit allows (\(limit) descriptors, about \(max(0, limit - spare)) connections); raise it (ulimit -n, LimitNOFILE=) or lower max_connections")
        }
    }

    /// Starts a listener; a port that another process holds ends `serve`
    /// with the key the port came from, not a half-shared port.
    private static func start(_ server: Server, key: String) throws -> [SocketAddress] {
        do {
            return try server.start()
        } catch SocketError.addressInUse(let address) {
            throw ToolError.exit("\(key): \(address) is already in use; another process (another serve?) listens on port \(address.port)")
        }
    }
}

/// A loop that runs until cancelled (the reconciliation sweep), as a
/// service cancelled on graceful shutdown.
struct BackgroundLoop: Service {
    let body: @Sendable () async -> Void

    init(_ body: @escaping @Sendable () async -> Void) { self.body = body }

    func run() async {
        await cancelWhenGracefulShutdown(body)
    }
}
