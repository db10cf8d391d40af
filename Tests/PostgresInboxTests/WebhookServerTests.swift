import Foundation
import Inbox
import PostgresInbox
import Testing
import TestSupport
import TrustPay
import TrustPayWebhooksTesting
import Webhooks
import Locking

let merchant = TestMerchant(id: 8_820_250_900_009, secret: "s3cr3t-for-postgres-tests")
let factory = CallbackFactory(merchant: merchant)

/// How many times each order's handler ran, across servers.
final class RunCounts: Sendable {
    private let counts = Locked([String: Int]())
    func record(_ orderNo: String) { counts.withLock { $0[orderNo, default: 0] += 1 } }
    var all: [String: Int] { counts.withLock { $0 } }
}

/// A server for `merchant` on `inbox`, counting handler runs.
func makeServer(inbox: any IdempotencyStore, runs: RunCounts, dispatch: DispatchMode = .afterStore) -> WebhookServer {
    var configuration = WebhookConfiguration(merchants: [merchant.merchant])
    configuration.paymentRoutes = [PaymentRoute(path: "/trustpay/payment", dispatch: dispatch)]
    configuration.retrySchedule = RetrySchedule(
        maxAttempts: 3, initialDelay: .milliseconds(20), multiplier: 2, maxDelay: .milliseconds(100), jitter: 0.5)
    configuration.workers = 2
    configuration.handlerTimeout = .seconds(5)
    configuration.pollInterval = .milliseconds(200)
    var server = WebhookServer(configuration: configuration, store: inbox, logger: testLogger)
    server.onPayment { event in runs.record(event.callback.orderNo) }
    return server
}

extension PostgreSQLTests {
    /// `WebhookServer` on loopback with a PostgreSQL inbox.
    @Suite struct WebhookServerTests {
        /// Made to fail by replaying the event on every duplicate record (in
        /// `WatchedStore.record`): orders ran 2 or 3 times in both modes.
        @Test(arguments: [DispatchMode.afterStore, .afterHandler])
        func twoServersOnOneDatabaseRunTheHandlerOnceForCopiesArrivingTogether(dispatch: DispatchMode) async throws {
            let runs = RunCounts()
            try await withReplicas { a, b in
                let (watchedA, watchedB) = (WatchedStore(a), WatchedStore(b))
                try await withWebhookTestServer(makeServer(inbox: watchedA, runs: runs, dispatch: dispatch)) { first in
                    try await withWebhookTestServer(makeServer(inbox: watchedB, runs: runs, dispatch: dispatch)) { second in
                        let orders = (0..<10).map { "TWICE-\($0)" }
                        for orderNo in orders {
                            let callback = factory.payment(orderNo: orderNo, status: .unliquidated)
                            let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
                                for client in [first.client, second.client, first.client, second.client] {
                                    group.addTask { try await client.deliver(callback).status }
                                }
                                return try await group.reduce(into: []) { $0.append($1) }
                            }
                            // A copy that waited past the handler timeout for the run in progress may get 409.
                            #expect(statuses.allSatisfy { $0 == 200 || $0 == 409 }, "\(orderNo): \(statuses)")
                            #expect(statuses.contains(200))
                        }
                        try await eventually("every order completed", timeout: .seconds(20)) {
                            try await a.list(EventFilter(states: [.completed])).count == orders.count
                        }
                        // Whatever the copies set off has run once every worker of both servers finds nothing due.
                        let (markA, markB) = (watchedA.mark(), watchedB.mark())
                        try await watchedA.waitUntilIdle(workers: 2, since: markA)
                        try await watchedB.waitUntilIdle(workers: 2, since: markB)
                        #expect(runs.all == Dictionary(uniqueKeysWithValues: orders.map { ($0, 1) }))
                    }
                }
            }
        }

        /// PostgreSQL's writes wait on a group commit, so a worker takes
        /// the next event while its last outcome commits: with that
        /// completion held by a row lock another session took, the next
        /// callback's handler still runs. Made to fail by the
        /// batch-at-a-time loop (`writesWaitForGroupCommit` false): the
        /// only worker waited for the held commit, and the workers fell
        /// behind the requests under load (BENCHMARKS.md, session 21).
        @Test func theWorkerRunsTheNextEventWhileAnOutcomeCommits() async throws {
            let url = try await sharedServer().createDatabase()
            let inbox = try await PostgresInbox.connect(
                url: url, poolSize: 4, operationTimeout: .seconds(60), logger: testLogger)
            let runs = RunCounts()
            let locked = Locked(false)
            var server = makeServer(inbox: inbox, runs: runs)
            server.configuration.workers = 1
            server.configuration.claimBatch = 1
            server.onPayment { event in
                if event.callback.orderNo == "FIRST" {
                    try await eventually("the test to lock FIRST's row") { locked.withLock { $0 } }
                }
            }
            try await using(inbox) {
                try await withWebhookTestServer(server) { server in
                    #expect(try await server.client.deliver(factory.payment(orderNo: "FIRST", status: .paid)).isAcknowledgement)
                    try await withRawClient(url) { raw in
                        let (release, releaser) = AsyncStream<Void>.makeStream()
                        let (taken, lockTaken) = AsyncStream<Void>.makeStream()
                        try await withThrowingTaskGroup(of: Void.self) { locker in
                            locker.addTask {
                                defer { lockTaken.finish() }
                                try await raw.withTransaction(logger: testLogger) { connection in
                                    try await connection.query(
                                        "SELECT 1 FROM trustpay_events WHERE order_no = 'FIRST' FOR UPDATE", logger: testLogger)
                                    lockTaken.yield()
                                    for await _ in release { break }
                                }
                            }
                            defer { releaser.finish() }
                            for await _ in taken { break }
                            locked.withLock { $0 = true }
                            try await eventually("FIRST's completion to wait for the lock") {
                                try await BatchedRecordTests.blockedSessions(raw) == 1
                            }
                            let second = factory.payment(orderNo: "SECOND", status: .paid)
                            #expect(try await server.client.deliver(second).isAcknowledgement)
                            try await eventually("SECOND's handler to run", timeout: .seconds(15)) {
                                runs.all["SECOND"] == 1
                            }
                            #expect(try await inbox.event(id: try #require(inbox.list(EventFilter(orderNo: "FIRST")).first?.id))?
                                .state.name == .processing, "FIRST's completion still waits")
                            releaser.yield()
                            try await locker.waitForAll()
                        }
                    }
                    try await eventually("both completed") {
                        try await inbox.list(EventFilter(states: [.completed])).count == 2
                    }
                }
            }
        }
    }
}

/// Per order: the statuses its handler saw, and how many runs overlapped at most.
final class OrderRuns: Sendable {
    private let state = Locked([String: (running: Int, peak: Int, seen: [Int])]())
    func start(_ orderNo: String, status: Int) {
        state.withLock { orders in
            var entry = orders[orderNo] ?? (0, 0, [])
            entry.running += 1
            entry.peak = max(entry.peak, entry.running)
            entry.seen.append(status)
            orders[orderNo] = entry
        }
    }
    func end(_ orderNo: String) { state.withLock { $0[orderNo]?.running -= 1 } }
    var all: [String: (running: Int, peak: Int, seen: [Int])] { state.withLock { $0 } }
}

extension PostgreSQLTests.WebhookServerTests {
    /// Two replicas record and handle orders of several events each, every
    /// order's callbacks sent in turn to either replica: each order's
    /// handlers run one at a time in the order the callbacks were
    /// acknowledged, and none is left held behind a finished event.
    @Test func twoServersHandleEachOrdersEventsOneAtATimeInOrder() async throws {
        let runs = OrderRuns()
        func server(_ inbox: PostgresInbox) -> WebhookServer {
            var server = makeServer(inbox: inbox, runs: RunCounts())
            server.onPayment { event in
                runs.start(event.callback.orderNo, status: event.callback.status.code)
                defer { runs.end(event.callback.orderNo) }
                try await Task.sleep(for: .milliseconds(100))  // the next callback arrives meanwhile
            }
            return server
        }
        let statuses: [OrderStatus] = [.unliquidated, .refunding, .partiallyRefunded, .refunded]
        let orders = (0..<8).map { "SEQ-\($0)" }
        try await withReplicas { a, b in
            try await withWebhookTestServer(server(a)) { first in
                try await withWebhookTestServer(server(b)) { second in
                    try await withThrowingTaskGroup(of: Void.self) { group in
                        for (index, orderNo) in orders.enumerated() {
                            group.addTask {
                                for (step, status) in statuses.enumerated() {
                                    let client = (index + step) % 2 == 0 ? first.client : second.client
                                    let answer = try await client.deliver(factory.payment(orderNo: orderNo, status: status))
                                    #expect(answer.status == 200, "\(orderNo) \(status): \(answer)")
                                }
                            }
                        }
                        try await group.waitForAll()
                    }
                    try await eventually("every event completed", timeout: .seconds(30)) {
                        try await a.list(EventFilter(states: [.completed])).count == orders.count * statuses.count
                    }
                }
            }
        }
        for orderNo in orders {
            let entry = runs.all[orderNo]
            #expect(entry?.seen == statuses.map(\.code), "\(orderNo): \(String(describing: entry))")
            #expect(entry?.peak == 1, "\(orderNo): \(String(describing: entry))")
        }
    }
}

/// Delivers `callback` again while it is answered `503`, as TrustPay does,
/// for up to 30 s: never anything else but a `200` once it is stored.
func deliverUntilAcknowledged(_ client: WebhookClient, _ callback: SignedCallback) async throws -> WebhookResponse {
    let deadline = ContinuousClock.now + .seconds(30)
    var response = try await client.deliver(callback)
    while response.status != 200, ContinuousClock.now < deadline {
        #expect(response.status == 503, "\(response)")
        try await Task.sleep(for: .milliseconds(200))
        response = try await client.deliver(callback)
    }
    return response
}

extension OutageTests {
    @Test func theServerAnswers503WhileTheDatabaseIsDownAnd200WhenItIsBack() async throws {
        try await Self.withOwnServer { database, url in
            // A short timeout, so that calls fail promptly while the database is down; the
            // calls meant to succeed retry, as a loaded machine may run past it (see OutageTests).
            let inbox = try await untilAvailable {
                try await PostgresInbox.connect(
                    url: url, poolSize: 2, operationTimeout: Self.timeout, logger: testLogger)
            }
            let runs = RunCounts()
            try await using(inbox) {
                try await withWebhookTestServer(makeServer(inbox: inbox, runs: runs)) { server in
                    let up = try await deliverUntilAcknowledged(server.client, factory.payment(orderNo: "UP", status: .unliquidated))
                    #expect(up.isAcknowledgement, "\(up)")
                    try await eventually("ready") { try await server.client.get("/readyz").status == 200 }
                    // Finished before the outage, so that no attempt is cut short by it.
                    try await eventually("UP completed") {
                        try await untilAvailable { try await inbox.list(EventFilter(states: [.completed], orderNo: "UP")) }.count == 1
                    }

                    try await database.stopServer()
                    let down = factory.payment(orderNo: "DOWN", status: .unliquidated)
                    for _ in 0..<3 {
                        let started = ContinuousClock.now
                        let response = try await server.client.deliver(down)
                        #expect(response.status == 503, "\(response)")
                        #expect(ContinuousClock.now - started < Self.promptly())
                    }
                    #expect(try await server.client.get("/readyz").status == 503)

                    try await database.startServer()
                    let response = try await deliverUntilAcknowledged(server.client, down)
                    #expect(response.isAcknowledgement, "\(response)")
                    try await eventually("the handler ran for DOWN", timeout: .seconds(10)) { runs.all["DOWN"] == 1 }
                    #expect(try await untilAvailable { try await inbox.list(EventFilter(orderNo: "DOWN")) }.count == 1)
                    try await eventually("ready again") { try await server.client.get("/readyz").status == 200 }
                }
            }
            #expect(runs.all == ["UP": 1, "DOWN": 1])
        }
    }
}
