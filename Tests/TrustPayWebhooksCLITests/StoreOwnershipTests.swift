import Foundation
import PostgresTestCluster
import Testing
import TestSupport

/// Who may run on a store: one `serve` per SQLite file, and one live
/// replica per `replica.name` on a PostgreSQL database. Both are what lets
/// a restarted server release its predecessor's claims at once (the crash
/// drill measures that); a second server must be refused, clearly, before
/// it could release claims a live one holds.
@Suite(.serialized) struct StoreOwnershipTests {
    static let secret = "ownership-secret"

    /// Failed before the fix: the second serve started beside the first and
    /// ran until this test's 20 s limit killed it (status 137, no message).
    @Test func aSecondServeOnTheSameSQLiteFileIsRefusedNamingIt() async throws {
        let directory = try ScratchDirectory()
        defer { directory.remove() }
        let first = try await ServeProcess.start(config: directory.serveConfig(secret: Self.secret), in: directory)
        defer { first.stop() }
        let second = try await BuiltCLI.run(
            ["serve", "--config", directory.url.path + "/serve.yaml", "--port", "0"], in: directory, timeout: .seconds(20))
        #expect(second.status == 1, "\(second.output)")
        let database = directory.url.path + "/inbox.sqlite"
        #expect(second.output.contains("another server is already running on the SQLite database \(database)"),
                "\(second.output)")
        #expect(second.output.contains(database + ".lock"), "\(second.output)")
        // The operator commands still open it beside the running server.
        let listed = try await BuiltCLI.run(["events", "list", "--config", directory.url.path + "/serve.yaml"], in: directory)
        #expect(listed.status == 0, "\(listed.output)")
        // Once the first is gone (killed: the kernel drops its lock), a new one starts.
        first.stop()
        let next = try await ServeProcess.start(config: directory.serveConfig(secret: Self.secret), in: directory)
        next.stop()
    }

    /// Two live replicas named alike would each release the other's claims.
    /// Failed before the fix: the second started (no names existed).
    @Test(.requiresPostgreSQL, .timeLimit(.minutes(3)))
    func aSecondLiveReplicaWithTheSameNameIsRefused() async throws {
        let cluster = try await PostgresTestCluster.start()
        do {
            let url = try await cluster.createDatabase()
            let first = try ScratchDirectory()
            defer { first.remove() }
            let config = first.serveConfig(store: .postgres(url: url), secret: Self.secret, "replica:\n  name: web-1")
            let running = try await ServeProcess.start(config: config, in: first)
            defer { running.stop() }
            let log = (try? String(contentsOf: running.log, encoding: .utf8)) ?? ""
            #expect(log.contains("replica=web-1#1"), "the first incarnation of web-1: \(log)")

            let second = try ScratchDirectory()
            defer { second.remove() }
            let path = second.file("serve.yaml", contents: config).path
            let refused = try await BuiltCLI.run(["serve", "--config", path], in: second, timeout: .seconds(40))
            #expect(refused.status == 1, "\(refused.output)")
            #expect(refused.output.contains("another live replica is running as 'web-1'"), "\(refused.output)")

            // Another name is fine beside it; and web-1 itself, once its process is dead, starts as incarnation 2.
            let other = try await ServeProcess.start(
                config: second.serveConfig(store: .postgres(url: url), secret: Self.secret, "replica:\n  name: web-2"),
                in: second)
            other.stop()
            running.stop()
            let restarted = try await ServeProcess.start(config: config, in: first)
            defer { restarted.stop() }
            let again = (try? String(contentsOf: restarted.log, encoding: .utf8)) ?? ""
            #expect(again.contains("replica=web-1#2"), "\(again)")
        } catch {
            await cluster.destroy()
            throw error
        }
        await cluster.destroy()
    }
}
