import Foundation
@testable import HTTPServer
import Testing
import TrustPayWebhooksTesting

/// The server's threads carry names that say what they do, so that
/// `top -H`, `perf` and `/proc/PID/task/*/comm` tell the loops from the
/// handler executor (unnamed, every one read "com.apple.root.default-qos",
/// inherited from the Swift task that started them).
@Suite struct ThreadNameTests {
    /// The calling thread's name, as the kernel reports it.
    private static func threadName() -> String {
        let name = (try? String(contentsOfFile: "/proc/thread-self/comm", encoding: .utf8)) ?? "?"
        return name.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Failed before the threads were named: both answers were the name of
    /// the test's own thread.
    @Test func loopsAndHandlerThreadsAreNamed() async throws {
        var router = Router()
        router.add(.get, "/loop", .immediate { _ in HTTPResponse(status: .ok, contentType: "text/plain", body: Self.threadName()) })
        router.add(.get, "/handler", .async { _ in HTTPResponse(status: .ok, contentType: "text/plain", body: Self.threadName()) })
        let live = try LiveServer(configuration: LiveServer.configuration(loops: 2), router: router)
        defer { live.stop() }
        let client = try WireClient(port: live.port)
        client.send("GET /loop HTTP/1.1\r\nHost: t\r\n\r\n")
        let loop = try #require(await client.readResponse())
        #expect(loop.body == "http-loop-0" || loop.body == "http-loop-1", "loop thread named \(loop.body)")
        client.send("GET /handler HTTP/1.1\r\nHost: t\r\n\r\n")
        let handler = try #require(await client.readResponse())
        #expect(handler.body.hasPrefix("handlers-"), "handler thread named \(handler.body)")
    }
}
