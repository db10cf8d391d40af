import Foundation
import PostgresTestCluster
import Testing
import TestSupport
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// `serve` on PostgreSQL that is down when it starts: it stays up, answers
/// callbacks and `/readyz` with 503, logs why (the connection is refused),
/// and serves normally, schema migrated, once the database is started.
@Suite(.requiresPostgreSQL, .timeLimit(.minutes(3)))
struct PostgresOutageAtStartTests {
    static let secret = "outage-secret"

    @Test func serveStartsWithPostgreSQLDownAnswers503AndRecoversWhenItStarts() async throws {
        let cluster = try await PostgresTestCluster.start()
        do {
            try await run(cluster)
        } catch {
            await cluster.destroy()
            throw error
        }
        await cluster.destroy()
    }

    private func run(_ cluster: PostgresTestCluster) async throws {
        // The database exists (as an operator's would) but is empty: no schema yet.
        let url = try await cluster.createDatabase()
        try await cluster.stopServer()

        let directory = try ScratchDirectory()
        defer { directory.remove() }
        let server = try await ServeProcess.start(
            config: directory.serveConfig(store: .postgres(url: url), secret: Self.secret, "handlers: []"), in: directory)
        defer { server.stop() }
        let log = directory.url.appendingPathComponent("serve.log")
        let readyz = "http://127.0.0.1:\(server.port)/readyz"

        #expect(kill(server.pid, 0) == 0, "serve is still running")
        #expect(try await Self.status(readyz) == 503)
        let sent = try await send(to: server, order: "DOWN-1", in: directory)
        #expect(sent.output.contains("503"), "\(sent.output)")
        let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        let atStart = text.split(separator: "\n").first { $0.contains("PostgreSQL is unavailable at start") } ?? ""
        #expect(atStart.lowercased().contains("connection refused"), "the real cause, not a timeout: \(text)")
        #expect(kill(server.pid, 0) == 0, "serve is still running")

        try await cluster.startServer()
        // Safety net only: readiness comes back once a probe reaches the database.
        let deadline = ContinuousClock.now + .seconds(60)
        var ready = try await Self.status(readyz)
        while ready != 200 && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(200))
            ready = try await Self.status(readyz)
        }
        #expect(ready == 200)
        // Readiness is one probe; the first callbacks after it may still meet
        // the pool's failed connections or the migration and get 503, which
        // TrustPay answers by sending again. So does this test, as in the
        // other outage tests; it fails if no copy is ever stored.
        var recorded = try await send(to: server, order: "UP-1", in: directory)
        while recorded.status != 0 && recorded.output.contains("503") && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(500))
            recorded = try await send(to: server, order: "UP-1", in: directory)
        }
        #expect(recorded.status == 0, "\(recorded.output)")
        #expect(recorded.output.contains("[1/1] 200"), "\(recorded.output)")
        let after = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        #expect(after.contains("recorded"), "the callback was stored once the schema was migrated: \(after)")
        // The replica name could not be taken at start; it is once the database answers.
        #expect(after.contains("cannot hold the replica name yet"), "\(after)")
        var named = after
        while !named.contains("replica name held") && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(200))
            named = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        }
        #expect(named.contains("replica name held"), "\(named)")
    }

    private func send(to server: ServeProcess, order: String, in directory: ScratchDirectory) async throws -> CommandResult {
        try await BuiltCLI.run(
            ["send", "--secret", Self.secret, "--merchant-id", String(ScratchDirectory.merchantID),
             "--url", server.paymentURL, "--order-no", order], in: directory)
    }

    static func status(_ url: String) async throws -> Int {
        let (_, response) = try await URLSession.shared.data(from: try #require(URL(string: url)))
        return (response as? HTTPURLResponse)?.statusCode ?? 0
    }
}
