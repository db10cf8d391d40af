import AsyncHTTPClient
import Foundation
import HTTPServer
import Locking
import Logging
import TrustPay

/// A stand-in for TrustPay on loopback: the Order Query API and callback
/// delivery for scripted orders.
///
/// ```swift
/// let simulator = try TrustPaySimulator(scenario: SimulatorScenario(
///     merchants: [SimulatedMerchant(id: 1, secret: "s", apiKey: "k")],
///     orders: [ScriptedOrder(merchantID: 1, orderNo: "ORD-1", orderAmount: Amount("106")!,
///                            statuses: [ScriptedStatus(.unliquidated, fee: Amount("6")!)])],
///     notifyURL: "http://127.0.0.1:8080/trustpay/payment", retrySchedule: [.zero, .seconds(1)]))
/// let port = try simulator.start()                  // POST /v4/query/order
/// let records = await simulator.deliverCallbacks()  // delivered or given up, per callback
/// await simulator.stop()
/// ```
///
/// Each order's callbacks are posted one after another, in status order or
/// in its `deliveryOrder`; orders run side by side. A status "happens" when
/// its first attempt starts (or, for a status that is never delivered, when
/// a later one does, or at the end), and from then on the query answers it.
public final class TrustPaySimulator: Sendable {
    public let scenario: SimulatorScenario
    private let book: OrderBook
    private let client: HTTPClient
    private let logger: Logger
    private let amountStyle: Locked<AmountStyle>
    private let faults = Locked<[Int]>([])
    private let queryLog = Locked<[SimulatedQuery]>([])
    private let deliveryLog = Locked<[DeliveryRecord]>([])
    private let server: Locked<Server?> = Locked(nil)
    private let payTime: String

    /// Posts callbacks unless another client is given: like TrustPay, a
    /// refused connection fails the attempt at once (AsyncHTTPClient's default
    /// would keep reconnecting until the attempt's timeout). Process-wide, no shutdown.
    public static let deliveryClient: HTTPClient = {
        var configuration = HTTPClient.Configuration(certificateVerification: .fullVerification)
        configuration.connectionPool.retryConnectionEstablishment = false
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }()

    /// - Parameter httpClient: posts the callbacks; the caller owns it.
    public init(
        scenario: SimulatorScenario, httpClient: HTTPClient = TrustPaySimulator.deliveryClient,
        logger: Logger = Logger(label: "trustpay-simulator")
    ) throws(SimulatorError) {
        if let problem = scenario.problem() { throw SimulatorError(problem) }
        if let url = scenario.notifyURL {
            guard let parsed = URL(string: url), let scheme = parsed.scheme?.lowercased(),
                ["http", "https"].contains(scheme), parsed.host?.isEmpty == false
            else { throw SimulatorError("notify_url is not an http(s) URL: \(url)") }
        }
        self.scenario = scenario
        self.book = OrderBook(scenario.orders)
        self.client = httpClient
        self.logger = logger
        self.amountStyle = Locked(scenario.amountsAs)
        self.payTime = CallbackBody.payTime(Date())
    }

    // MARK: the Order Query API

    /// Serves `POST /v4/query/order` on `host:port` (0: any free port) and
    /// returns the port. See ``QueryEndpoint`` for the answers.
    @discardableResult
    public func start(host: String = "127.0.0.1", port: Int = 0) throws -> Int {
        let endpoint = QueryEndpoint(
            merchants: scenario.merchants, book: book, amountsAs: { [amountStyle] in amountStyle.withLock { $0 } },
            faults: faults, log: queryLog)
        var router = Router()
        router.add(.post, "/v4/query/order", .immediate { endpoint.respond(to: $0) })
        var configuration = HTTPServerConfiguration(host: host, port: port)
        configuration.eventLoops = 1
        let server = Server(configuration: configuration, router: router, logger: logger)
        let addresses = try server.start()
        self.server.withLock { $0 = server }
        return addresses[0].port
    }

    /// `http://host:port` of the running query API, for ``TrustPayAPIConfiguration/baseURL``.
    public var baseURL: String? {
        server.withLock { server in
            server?.boundAddresses.first.map { "http://\($0)" }
        }
    }

    /// Stops serving queries.
    public func stop() async {
        shutdown()
        await waitUntilStopped()
    }

    /// Begins stopping the query server without waiting (safe from a signal handler's callback).
    public func shutdown() {
        server.withLock { $0 }?.shutdown(drainTimeout: .seconds(2))
    }

    /// Returns once the query server has stopped (at once if it never started).
    public func waitUntilStopped() async {
        guard let server = server.withLock({ $0 }) else { return }
        await server.waitUntilStopped()
    }

    /// The next `count` queries are answered with HTTP `status` and no
    /// provider body: the fault knob for retry tests.
    public func failNextQueries(_ count: Int, status: Int = 503) {
        faults.withLock { $0.append(contentsOf: Array(repeating: status, count: count)) }
    }

    /// Switches how query answers write amounts.
    public func answerAmounts(as style: AmountStyle) {
        amountStyle.withLock { $0 = style }
    }

    /// The queries answered so far, in order.
    public var queries: [SimulatedQuery] { queryLog.withLock { $0 } }

    // MARK: orders and callbacks

    /// Adds (or replaces) an order whose statuses up to `reached` (an index
    /// into its statuses; by default all) have already happened, without any
    /// callback: the query answers it, the merchant never heard of it.
    public func add(_ order: ScriptedOrder, reached: Int? = nil) throws(SimulatorError) {
        guard scenario.merchants.contains(where: { $0.id == order.merchantID }) else {
            throw SimulatorError("merchant \(order.merchantID) is not in the scenario")
        }
        guard !order.statuses.isEmpty else { throw SimulatorError("order \(order.orderNo) has no status") }
        book.add(order, reached: min(reached ?? order.statuses.count - 1, order.statuses.count - 1))
    }

    /// Delivers the callbacks of every scripted order to the notify_url and
    /// returns what happened to each, order by order. Without a notify_url,
    /// every status just happens.
    ///
    /// - Parameter report: called as each callback is delivered or given up.
    public func deliverCallbacks(report: (@Sendable (DeliveryRecord) -> Void)? = nil) async -> [DeliveryRecord] {
        await withTaskGroup(of: [DeliveryRecord].self) { group in
            for order in scenario.orders {
                group.addTask { await self.play(order, report: report) }
            }
            var all: [DeliveryRecord] = []
            for await records in group { all += records }
            return all
        }
    }

    /// Every callback delivered or given up so far, in the order they ended.
    public var deliveries: [DeliveryRecord] { deliveryLog.withLock { $0 } }

    private func play(_ order: ScriptedOrder, report: (@Sendable (DeliveryRecord) -> Void)?) async -> [DeliveryRecord] {
        let key = OrderBook.Key(merchantID: order.merchantID, orderNo: order.orderNo)
        let delivered = order.statuses.indices.filter { order.statuses[$0].deliver }
        guard let url = scenario.notifyURL,
            let merchant = scenario.merchants.first(where: { $0.id == order.merchantID })
        else {
            book.reach(order.statuses.count - 1, of: key)
            return []
        }
        let poster = CallbackPoster(
            client: client, url: url, schedule: scenario.retrySchedule, timeout: scenario.deliveryTimeout)
        var records: [DeliveryRecord] = []
        for index in order.deliveryOrder ?? delivered {
            let step = order.statuses[index]
            if step.delay > .zero {
                do { try await Task.sleep(for: step.delay) } catch { break }
            }
            book.reach(index, of: key)
            let body = CallbackBody.signed(order, at: step, secret: merchant.secret, payTime: payTime)
            for copy in 1...step.copies {
                let (attempts, ok) = await poster.post(body)
                let record = DeliveryRecord(
                    merchantID: order.merchantID, orderNo: order.orderNo, status: step.status, copy: copy,
                    attempts: attempts, outcome: ok ? .delivered : .gaveUp, body: body)
                book.notified(index, of: key, succeeded: ok)
                deliveryLog.withLock { $0.append(record) }
                records.append(record)
                report?(record)
                logger.info(
                    "callback \(ok ? "delivered" : "given up")",
                    metadata: ["order_no": "\(order.orderNo)", "status": "\(step.status)", "copy": "\(copy)",
                               "attempts": "\(attempts.count)"])
                if !ok { break }  // TrustPay repeats a callback only once one got through
            }
        }
        book.reach(order.statuses.count - 1, of: key)
        return records
    }
}

/// A scenario or order the simulator cannot play.
public struct SimulatorError: Error, Sendable, Equatable, CustomStringConvertible {
    public let reason: String
    public init(_ reason: String) { self.reason = reason }
    public var description: String { "simulator: \(reason)" }
}
