import Foundation
import Inbox
import Logging
import PostgresInbox
import PostgresTestCluster
import SQLiteInbox
import Testing
import TestSupport
import TrustPay
import TrustPayWebhooksTesting
import Webhooks

private let merchant = TestMerchant(id: 8_820_250_900_009, secret: "s3cr3t-for-store-tests")
private let factory = CallbackFactory(merchant: merchant)

/// Quiet unless something goes wrong.
private let quietLogger: Logger = {
    var logger = Logger(label: "idempotency-store-tests")
    logger.logLevel = .error
    return logger
}()

/// Copies of one callback arriving together, on each store the server can
/// run on: the pipeline's once-per-callback promise holds whatever the store.
@Suite(.timeLimit(.minutes(2)))
struct ConcurrentDeliveryTests {
    /// Made to fail by replaying the event on every duplicate record (in
    /// `WatchedStore.record`): the handler ran 3, 2 and 4 times on the
    /// memory, SQLite and PostgreSQL inboxes.
    @Test(arguments: StoreKind.testable)
    func aHundredConcurrentDeliveriesRunTheHandlerOnce(_ kind: StoreKind) async throws {
        try await kind.withStore { inbox in
            let store = WatchedStore(inbox)
            let recorder = HandlerRecorder()
            var configuration = WebhookConfiguration(merchants: [merchant.merchant])
            configuration.workers = 2
            configuration.pollInterval = .milliseconds(50)
            var server = WebhookServer(configuration: configuration, store: store, logger: quietLogger)
            recorder.register(on: &server)
            try await withWebhookTestServer(server) { server in
                let callback = factory.payment(orderNo: "ONCE", status: .unliquidated)
                let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
                    for _ in 0..<100 { group.addTask { try await server.client.deliver(callback).status } }
                    return try await group.reduce(into: []) { $0.append($1) }
                }
                #expect(statuses == Array(repeating: 200, count: 100))
                try await eventually("the event to complete") {
                    try await inbox.list(EventFilter(states: [.completed])).count == 1
                }
                // A straggler after the run, answered as a duplicate; then
                // whatever the copies set off has run once both workers find nothing due.
                #expect(try await server.client.deliver(callback).isAcknowledgement)
                try await store.waitUntilIdle(workers: 2, since: store.mark())
                #expect(recorder.payments.count == 1)
                #expect(recorder.payments.first?.attempt.number == 1)
                #expect(try await inbox.list(EventFilter()).count == 1)
            }
        }
    }
}

/// The stores the server runs on, each opened empty for one test.
enum StoreKind: String, Sendable, CustomTestStringConvertible {
    case memory, sqlite, postgreSQL

    var testDescription: String { rawValue }

    /// Every store, PostgreSQL where it is installed (or under CI, where
    /// its absence fails the test); its case is counted among the
    /// PostgreSQL skips otherwise.
    static var testable: [StoreKind] {
        guard PostgresTestCluster.shouldRun else {
            PostgreSQLSkips.shared.add("ConcurrentDeliveryTests, the PostgreSQL case")
            return [.memory, .sqlite]
        }
        return [.memory, .sqlite, .postgreSQL]
    }

    /// Opens an empty store of this kind for `body`, and closes it afterwards.
    func withStore(_ body: (any InboxAdministration) async throws -> Void) async throws {
        switch self {
        case .memory:
            try await body(MemoryInbox())
        case .sqlite:
            let directory = try TemporaryDirectory()
            let inbox = try await SQLiteInbox.open(path: directory.database())
            do {
                try await body(inbox)
            } catch {
                await inbox.close()
                throw error
            }
            await inbox.close()
        case .postgreSQL:
            let cluster = try await PostgresTestCluster.start()
            do {
                let inbox = try await PostgresInbox.connect(
                    url: try await cluster.createDatabase(), poolSize: 4, operationTimeout: .seconds(30),
                    logger: quietLogger)
                do {
                    try await body(inbox)
                } catch {
                    await inbox.shutdown()
                    throw error
                }
                await inbox.shutdown()
            } catch {
                await cluster.destroy()
                throw error
            }
            await cluster.destroy()
        }
    }
}
