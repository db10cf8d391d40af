import ChildProcesses
import Foundation
import Testing
@testable import HTTPServer

@Suite struct ShutdownTests {
    @Test func inFlightRequestFinishesIdleConnectionsCloseNewOnesAreRefused() async throws {
        let live = try LiveServer(configuration: LiveServer.configuration())
        let idle = try WireClient(port: live.port)
        idle.send("GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
        #expect(await idle.readResponse()?.status == 200)
        let busy = try WireClient(port: live.port)
        busy.send("GET /slow?ms=3000 HTTP/1.1\r\nHost: t\r\n\r\n")
        try await Task.sleep(for: .microseconds(100_000))
        live.server.shutdown(drainTimeout: 5)
        #expect(await idle.isClosedByPeer())
        let answer = try #require(await busy.readResponse())
        #expect(answer.body == "slow 3000\n")
        #expect(answer.header("connection") == "close")
        await live.server.waitUntilStopped()
        #expect(throws: SocketError.self) { try WireClient(port: live.port) }
    }

    @Test func drainTimeoutBoundsAHandlerThatNeverFinishes() async throws {
        let live = try LiveServer(configuration: LiveServer.configuration(loops: 1))
        let stuck = try WireClient(port: live.port)
        stuck.send("GET /slow?ms=60000 HTTP/1.1\r\nHost: t\r\n\r\n")
        try await Task.sleep(for: .microseconds(100_000))
        live.server.shutdown(drainTimeout: 0.5)
        await live.server.waitUntilStopped()
        #expect(await stuck.isClosedByPeer())
    }

    @Test func binaryExitsZeroOnSIGTERMAfterAnsweringInFlight() async throws {
        let binary = try #require(BuiltBinary.path, "trustpay-webhooks binary not built")
        // The embedded defaults keep their SQLite file under ./data.
        let directory = NSTemporaryDirectory() + "serve-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let log = directory + "/serve.log"
        let server = try ChildProcess.spawn([binary, "serve", "--port", "0"], stdout: directory + "/serve.out",
                                            stderr: log, directory: directory)
        let port = try await BuiltBinary.waitForPort(log: log)
        let client = try WireClient(port: port)
        client.send("GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
        #expect(await client.readResponse()?.status == 200)
        server.signal(SIGTERM)
        let watchdog = Task {
            try await Task.sleep(for: .seconds(30))
            server.signal(SIGKILL)
        }
        #expect(await server.wait() == 0)
        watchdog.cancel()
    }
}

enum BuiltBinary {
    /// `trustpay-webhooks` beside the test bundle in the build folder.
    static var path: String? {
        let me = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        var directory = me.deletingLastPathComponent()
        for _ in 0..<4 {
            let candidate = directory.appendingPathComponent("trustpay-webhooks").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            directory = directory.deletingLastPathComponent()
        }
        return nil
    }

    /// Polls the server's log until it reports the bound address.
    static func waitForPort(log: String) async throws -> Int {
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            let seen = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            if let range = seen.range(of: #"address=\S+:(\d+)"#, options: .regularExpression) {
                return Int(seen[range].split(separator: ":").last!) ?? 0
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw SocketError.invalidAddress("server did not report its address in time")
    }
}
