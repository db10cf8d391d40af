import Foundation
import HTTPServer
import Inbox
import Logging
import Synchronization
import TrustPay

/// The request side and the dispatch side of the webhooks, built by
/// ``WebhookServer/makePipeline()``.
///
/// Mount its routes on your own `Router` (or use ``router``), and run
/// ``dispatchService`` (in your `ServiceGroup`, before the server, so that it
/// stops after it) for as long as the server serves: after-store events are
/// handled only by the workers.
///
/// ```swift
/// let pipeline = webhooks.makePipeline()
/// var router = Router()
/// pipeline.mount(on: &router)
/// router.get("/version") { _ in HTTPResponse(status: .ok, contentType: "text/plain", body: "1.0") }
/// let server = Server(configuration: http, router: router)
/// let group = ServiceGroup(
///     services: [pipeline.dispatchService, server], gracefulShutdownSignals: [.sigterm], logger: logger)
/// try await group.run()
/// ```
public final class WebhookPipeline: Sendable {
    public let configuration: WebhookConfiguration
    public let store: any IdempotencyStore
    let handlers: Handlers
    let logger: Logger
    let dispatcher: Dispatcher
    /// Turns bodies into authentic callbacks; the only place the wire rules live.
    let authenticator = CallbackAuthenticator()
    let workers: DispatchWorkers
    let wakeUps: Waiters<Int>
    let retryAlarm = RetryAlarm()
    let conflictReports = ConflictReports()
    let finished: Waiters<String>
    let metrics: PipelineMetrics
    /// Recorded callbacks as decoded, until a worker takes them (after-store routes).
    let decodedCallbacks = DecodedCallbacks()
    /// After-store events recorded already leased to the workers (see ``HandOff``).
    let handOff: HandOff
    /// The lease owner of handed-over events.
    let handOffOwner: String
    /// Told of events that only a claim finds, so busy workers claim them.
    let pacing: ClaimPacing
    /// Distinguishes this process's lease owners from other replicas'.
    let instanceID: String
    private let conflicts = Atomic<Int>(0)
    private let requestLeases = Atomic<Int>(0)
    /// Whether the last readiness check passed, so a change is logged once.
    private let storeWasReady = Atomic<Bool>(true)

    public convenience init(
        configuration: WebhookConfiguration, handlers: Handlers, store: any IdempotencyStore,
        logger: Logger = Logger(label: "trustpay-webhooks")
    ) {
        self.init(configuration: configuration, handlers: handlers, store: store, logger: logger, metrics: PipelineMetrics())
    }

    /// `metrics`: what the pipeline counts, into a test's own factory.
    init(
        configuration: WebhookConfiguration, handlers: Handlers, store: any IdempotencyStore, logger: Logger,
        metrics: PipelineMetrics
    ) {
        self.metrics = metrics
        self.configuration = configuration
        self.store = store
        self.handlers = handlers
        self.logger = logger
        let instanceID = configuration.leaseOwnerPrefix ?? String(UUID().uuidString.lowercased().prefix(8))
        self.instanceID = instanceID
        let wakeUps = Waiters<Int>(remembersUnheard: true)
        let finished = Waiters<String>(remembersUnheard: false)
        self.wakeUps = wakeUps
        self.finished = finished
        let dispatcher = Dispatcher(
            handlers: handlers, store: store, retrySchedule: configuration.retrySchedule,
            handlerTimeout: configuration.handlerTimeout, logger: logger, metrics: metrics, finished: finished,
            retryAlarm: retryAlarm)
        self.dispatcher = dispatcher
        // Room for the bursts of a group commit (every record of a commit
        // arrives at once; with 4 batches per worker, 2–7% of PostgreSQL's
        // callbacks found it full and were claimed with a write more,
        // BENCHMARKS.md session 22). A handed-over event must still start
        // well within its lease (a late one is left to its lease, see
        // Dispatcher.run): with slow handlers the queue's age bounds it.
        let handOff = HandOff(
            capacity: 16 * max(1, configuration.workers) * max(1, configuration.claimBatch),
            maxWait: (configuration.leaseDuration - configuration.handlerTimeout) / 2, wakeUps: wakeUps,
            wakeKey: DispatchWorkers.wakeKey)
        self.handOff = handOff
        let pacing = ClaimPacing(interval: configuration.busyClaimInterval)
        self.pacing = pacing
        handOffOwner = "\(instanceID)/hand-off"
        workers = DispatchWorkers(
            dispatcher: dispatcher, store: store, count: configuration.workers, batch: configuration.claimBatch,
            leaseDuration: configuration.leaseDuration, pollInterval: configuration.pollInterval,
            ownerPrefix: instanceID, wakeUps: wakeUps, decodedCallbacks: decodedCallbacks, handOff: handOff,
            handOffOwner: handOffOwner, pacing: pacing, logger: logger)
        let minimumLease = Lease.minimumDuration(forHandlerTimeout: configuration.handlerTimeout)
        if configuration.leaseDuration < minimumLease {
            logger.warning(
                "leaseDuration is shorter than twice handlerTimeout: another worker could start an event whose handlers still run",
                metadata: [
                    "lease": "\(configuration.leaseDuration)", "handler_timeout": "\(configuration.handlerTimeout)",
                    "minimum_lease": "\(minimumLease)",
                ])
        }
    }

    // MARK: routes

    /// A router with every configured route and nothing else.
    public var router: Router {
        var router = Router()
        mount(on: &router)
        return router
    }

    /// Adds the configured routes to `router`.
    public func mount(on router: inout Router) {
        for (path, methods) in routes {
            for (method, handler) in methods { router.add(method, path, handler) }
        }
    }

    /// Answers a request without a socket, as the mounted routes would: for
    /// in-process tests.
    public func respond(to request: HTTPRequest) async -> HTTPResponse {
        await router.respond(to: request)
    }

    /// Path → method → handler, built from the configuration (a handful of entries).
    private var routes: [String: [HTTPMethod: RouteHandler]] {
        var routes: [String: [HTTPMethod: RouteHandler]] = [:]
        for route in configuration.paymentRoutes {
            routes[route.path, default: [:]][.post] = callbackRoute(route.dispatch) { [self] in
                counted("payment", await receivePayment($0, route: route))
            }
        }
        for route in configuration.cardRoutes {
            routes[route.path, default: [:]][.post] = callbackRoute(route.dispatch) { [self] in
                counted("card", await receiveCard($0, route: route))
            }
        }
        if let path = configuration.riskControlPath {
            routes[path, default: [:]][.post] = .async { [self] in counted("risk_control", await decideRisk($0)) }
        }
        if let path = configuration.healthPath {
            routes[path, default: [:]][.get] = healthRoute
        }
        if let path = configuration.readinessPath {
            routes[path, default: [:]][.get] = readinessRoute
        }
        return routes
    }

    /// Where a callback route runs. After the store, a request runs no
    /// merchant code (the workers do), so with a store that never blocks its
    /// caller it is answered on the event loop, with no thread hop. After
    /// the handlers, it runs them: on the handler executor, where a blocking
    /// handler stalls no socket.
    private func callbackRoute(
        _ mode: DispatchMode, _ answer: @escaping @Sendable (HTTPRequest) async -> HTTPResponse
    ) -> RouteHandler {
        mode == .afterStore && store.neverBlocksCaller ? .nonBlocking(answer) : .async(answer)
    }

    /// Liveness: `200 ok`, answered on the event loop. To mount on another
    /// listener (an admin port) as well.
    public var healthRoute: RouteHandler { .immediate { _ in Answer.healthy } }

    /// Readiness: `200 ready` while the store answers and takes writes,
    /// else `503 store_unavailable`; a change is logged once.
    public var readinessRoute: RouteHandler { .async { [self] _ in await readiness() } }

    private func counted(_ route: String, _ response: HTTPResponse) -> HTTPResponse {
        metrics.answered(route: route, status: response.status.code)
        return response
    }

    // MARK: dispatch side

    /// The dispatch workers, the retry alarm and the conflict handlers as
    /// one `Service`.
    public var dispatchService: DispatchService { DispatchService(pipeline: self) }

    /// Runs ``dispatchService`` until the calling task is cancelled (or its
    /// group shuts down gracefully).
    public func runWorkers() async {
        await dispatchService.run()
    }

    /// Makes an event pending again (a dead letter, typically) and wakes the
    /// workers. Needs a store that is also an ``InboxAdministration`` (every
    /// store of this package is); throws ``StoreError/unavailable(_:)`` otherwise.
    @discardableResult
    public func replay(eventID: String) async throws -> InboxEvent? {
        let event = try await administration().replay(id: eventID, now: Date())
        if event != nil {
            logger.info("event replayed", metadata: ["event_id": "\(eventID)"])
            wakeWorkers()
        }
        return event
    }

    /// Every dead letter, oldest first (an ``InboxAdministration`` store, as for ``replay(eventID:)``).
    public func deadLetters() async throws -> [DeadLetter] {
        try await administration().list(.deadLetters).compactMap(DeadLetter.init)
    }

    /// The store's administration: the pipeline itself needs only the hot
    /// path, so a merchant's store may leave it out.
    private func administration() throws -> any InboxAdministration {
        guard let store = store as? any InboxAdministration else {
            throw StoreError.unavailable("this store lists and replays no events (it is not an InboxAdministration)")
        }
        return store
    }

    /// Conflicts reported since this pipeline started.
    public var conflictsReported: Int { conflicts.load(ordering: .relaxed) }

    /// Wakes one idle worker; one that claims a full batch wakes the next
    /// (see ``DispatchWorkers``).
    func wakeWorkers() {
        pacing.expectClaimable()
        wakeUps.notifyOne(DispatchWorkers.wakeKey)
    }

    func countConflict() {
        conflicts.add(1, ordering: .relaxed)
    }

    /// A lease owner name for a request that runs its event's handlers itself.
    func requestLeaseOwner() -> String {
        "\(instanceID)/request-\(requestLeases.add(1, ordering: .relaxed).newValue)"
    }

    private func readiness() async -> HTTPResponse {
        do {
            try await store.checkAvailability()
            if !storeWasReady.exchange(true, ordering: .relaxed) {
                logger.notice("ready again: the store answers and takes writes")
            }
            return Answer.ready
        } catch {
            if storeWasReady.exchange(false, ordering: .relaxed) {
                logger.error("not ready: the store is unavailable; /readyz answers 503", metadata: ["error": "\(error)"])
            }
            return Rejection.storeUnavailable.response
        }
    }
}
