import Foundation
import Logging
import PostgresInbox
import PostgresNIO
import PostgresTestCluster
import Testing
import TestSupport

/// The private cluster the tests start (see PostgresTestCluster).
typealias TestPostgreSQL = PostgresTestCluster

/// Every test nested in this suite runs against one private PostgreSQL,
/// each on a fresh database.
@Suite(.requiresPostgreSQL, .postgreSQL)
struct PostgreSQLTests {}

/// Starts one private cluster around the suite it is attached to (and its
/// nested suites), and deletes it afterwards.
struct PostgreSQLScope: SuiteTrait, TestScoping {
    @TaskLocal static var server: TestPostgreSQL?

    func provideScope(
        for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void
    ) async throws {
        let server = try await TestPostgreSQL.start()
        do {
            try await Self.$server.withValue(server) { try await function() }
        } catch {
            await server.destroy()
            throw error
        }
        await server.destroy()
    }
}

extension Trait where Self == PostgreSQLScope {
    /// A private PostgreSQL for this suite.
    static var postgreSQL: Self { PostgreSQLScope() }
}

/// The suite's cluster.
func sharedServer() throws -> TestPostgreSQL {
    try #require(PostgreSQLScope.server, "the suite needs the .postgreSQL trait")
}

/// Quiet unless something is wrong.
let testLogger: Logger = {
    var logger = Logger(label: "postgres-inbox-tests")
    logger.logLevel = .warning
    return logger
}()

/// An inbox on a fresh database of the suite's cluster, shut down afterwards.
/// The timeout is generous: a hundred concurrent records on 4 connections
/// took over 10 s while the crash drills loaded both cores.
func withInbox<Result: Sendable>(
    poolSize: Int = 4, operationTimeout: Duration = .seconds(30),
    _ body: (PostgresInbox) async throws -> Result
) async throws -> Result {
    let url = try await sharedServer().createDatabase()
    let inbox = try await PostgresInbox.connect(
        url: url, poolSize: poolSize, operationTimeout: operationTimeout, logger: testLogger)
    do {
        let result = try await body(inbox)
        await inbox.shutdown()
        return result
    } catch {
        await inbox.shutdown()
        throw error
    }
}

/// A plain PostgresNIO client on `url`, running for `body`: for what the
/// inbox does not do (holding a lock, reading the schema version table).
func withRawClient<Result: Sendable>(
    _ url: String, _ body: (PostgresClient) async throws -> Result
) async throws -> Result {
    let client = PostgresClient(configuration: try DatabaseURL(url).configuration)
    return try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { await client.run() }
        defer { group.cancelAll() }
        return try await body(client)
    }
}

/// The ids of the events of `url`'s database flagged held, in order.
/// Checked directly: the claim's own check would hide a wrong flag.
func heldEvents(_ url: String) async throws -> [String] {
    try await withRawClient(url) { client in
        var ids: [String] = []
        for try await id in try await client.query(
            "SELECT id FROM trustpay_events WHERE held ORDER BY seq", logger: testLogger
        ).decode(String.self) {
            ids.append(id)
        }
        return ids
    }
}

/// Runs `body` with `inbox` and shuts the inbox down afterwards, even when `body` throws.
func using<Result: Sendable>(_ inbox: PostgresInbox, _ body: () async throws -> Result) async throws -> Result {
    do {
        let result = try await body()
        await inbox.shutdown()
        return result
    } catch {
        await inbox.shutdown()
        throw error
    }
}
