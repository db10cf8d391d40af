import ChildProcesses
import Foundation
import Testing
import TestSupport
@testable import HTTPServer
import TrustPayWebhooksTesting

@Suite struct ShutdownTests {
    /// The busy request's handler is provably running (it reached its gate)
    /// when shutdown starts, and is only let go once the idle connection is
    /// closed and the port refuses new ones. Failed when `Connection.drain`
    /// also closed connections with a handler running: the busy client got
    /// no answer.
    @Test func inFlightRequestFinishesIdleConnectionsCloseNewOnesAreRefused() async throws {
        let live = try LiveServer(configuration: LiveServer.configuration())
        defer { live.stop() }
        let idle = try WireClient(port: live.port)
        idle.send("GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
        #expect(await idle.readResponse()?.status == 200)
        let gate = UUID().uuidString
        let busy = try WireClient(port: live.port)
        busy.send("GET /gate?id=\(gate) HTTP/1.1\r\nHost: t\r\n\r\n")
        try await Gate.arrival(gate)
        // Long enough never to cut the busy request on a loaded machine.
        live.server.shutdown(drainTimeout: .seconds(60))
        #expect(await idle.isClosedByPeer())
        // Every loop has closed its listener while the handler still waits.
        try await eventually("the port refusing connections") { await connectionRefused(port: live.port) }
        await Gate.shared.open(gate)
        let answer = try #require(await busy.readResponse())
        #expect(answer.body == "gate \(gate)\n")
        #expect(answer.header("connection") == "close")
        #expect(await busy.isClosedByPeer())
        #expect(await completes(within: .seconds(30)) { await live.server.waitUntilStopped() })
    }

    /// A handler that never finishes (its gate stays shut while the server
    /// runs) holds shutdown for the drain timeout, no less and not much
    /// more. Failed when the drain timer was removed: the server was still
    /// running after 30 s.
    @Test func drainTimeoutBoundsAHandlerThatNeverFinishes() async throws {
        let live = try LiveServer(configuration: LiveServer.configuration(loops: 1))
        defer { live.stop() }
        let gate = UUID().uuidString
        let stuck = try WireClient(port: live.port)
        stuck.send("GET /gate?id=\(gate) HTTP/1.1\r\nHost: t\r\n\r\n")
        try await Gate.arrival(gate)
        let drainTimeout = Duration.milliseconds(500)
        let started = ContinuousClock.now
        live.server.shutdown(drainTimeout: drainTimeout)
        // 60 times the drain timeout: only an ignored timeout gets there.
        let stopped = await completes(within: .seconds(30)) { await live.server.waitUntilStopped() }
        let elapsed = ContinuousClock.now - started
        await Gate.shared.open(gate)
        #expect(stopped, "still running 30 s after a shutdown with a \(drainTimeout) drain timeout")
        #expect(elapsed >= drainTimeout, "stopped after \(elapsed), before the drain timeout")
        // Cut off without an answer.
        #expect(await stuck.readUntilClosed() == "")
    }

    /// SIGTERM arrives while a request is provably in flight: the server
    /// has answered its `Expect: 100-continue`, so it holds the head and
    /// waits for the body. The body is sent only once the port refuses new
    /// connections (every loop is draining); the answer then says `close`.
    /// Failed when `Connection.drain` closed connections still reading a
    /// body: the client got no answer.
    @Test func binaryExitsZeroOnSIGTERMAfterAnsweringInFlight() async throws {
        let binary = try builtExecutable("trustpay-webhooks")
        // The embedded defaults keep their SQLite file under ./data.
        let directory = NSTemporaryDirectory() + "serve-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let log = directory + "/serve.log"
        let server = try ChildProcess.spawn([binary, "serve", "--port", "0"], stdout: directory + "/serve.out",
                                            stderr: log, directory: directory)
        let watchdog = Task {
            try await Task.sleep(for: .seconds(60))
            server.signal(SIGKILL)
        }
        var status: Int32?
        defer {
            watchdog.cancel()
            if status == nil { server.signal(SIGKILL) }
        }
        let port = try await BuiltBinary.waitForPort(log: log)
        let client = try WireClient(port: port)
        let body = "{}"
        client.send("POST /trustpay/payment HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
            + "Content-Length: \(body.utf8.count)\r\nExpect: 100-continue\r\n\r\n")
        try #require(await client.readResponse()?.status == 100)
        server.signal(SIGTERM)
        try await eventually("the port refusing connections") { await connectionRefused(port: port) }
        client.send(body)
        let answer = try #require(await client.readResponse())
        #expect(answer.status == 400, "\(answer.status) \(answer.body)")
        #expect(answer.header("connection") == "close")
        status = await server.wait()
        #expect(status == 0)
        let logged = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        #expect(logged.contains("stopped"), "\(logged)")
    }
}

enum BuiltBinary {
    /// Polls the server's log until it reports the bound address.
    static func waitForPort(log: String) async throws -> Int {
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            let seen = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            if let range = seen.range(of: #"address=\S+:(\d+)"#, options: .regularExpression) {
                return seen[range].split(separator: ":").last.flatMap { Int($0) } ?? 0
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw SocketError.invalidAddress("server did not report its address in time")
    }
}
