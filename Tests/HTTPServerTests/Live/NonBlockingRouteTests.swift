import Foundation
@testable import HTTPServer
import Locking
import Testing
import TrustPayWebhooksTesting

/// `.nonBlocking` routes run as tasks on their connection's event loop:
/// no thread hop, yet awaits resumed from other threads still answer, and a
/// task outliving its loop still finishes.
@Suite struct NonBlockingRouteTests {
    /// The calling thread, as text a handler can answer with.
    private static func threadName() -> String { "\(UInt(pthread_self()))" }

    private static func router(afterGate finished: Locked<[String]>? = nil) -> Router {
        var router = Router()
        router.add(.get, "/immediate", .immediate { _ in HTTPResponse(status: .ok, contentType: "text/plain", body: threadName()) })
        router.add(.get, "/non-blocking", .nonBlocking { _ in HTTPResponse(status: .ok, contentType: "text/plain", body: threadName()) })
        router.add(.get, "/async", .async { _ in HTTPResponse(status: .ok, contentType: "text/plain", body: threadName()) })
        router.add(.get, "/gated", .nonBlocking { request in
            let id = String(request.query?.split(separator: "=").last ?? "")
            await Gate.shared.wait(id)
            finished?.withLock { $0.append(id) }
            return HTTPResponse(status: .ok, contentType: "text/plain", body: "gate \(id) on \(threadName())")
        })
        return router
    }

    /// Failed when `.nonBlocking` was run like `.async`: its thread was a
    /// handler executor's, not the loop's that answers `.immediate` routes.
    @Test func runsOnTheThreadOfItsConnectionsLoop() async throws {
        let live = try LiveServer(configuration: LiveServer.configuration(loops: 1), router: Self.router())
        defer { live.stop() }
        let client = try WireClient(port: live.port)
        var threads: [String: String] = [:]
        for path in ["/immediate", "/non-blocking", "/async", "/non-blocking"] {
            client.send("GET \(path) HTTP/1.1\r\nHost: t\r\n\r\n")
            let response = try #require(await client.readResponse())
            #expect(response.status == 200)
            if let seen = threads[path] { #expect(seen == response.body, "\(path) moved threads") }
            threads[path] = response.body
        }
        #expect(threads["/non-blocking"] == threads["/immediate"])
        #expect(threads["/async"] != threads["/immediate"])
    }

    /// The gate is opened from a test thread: the handler's task resumes
    /// through the loop's mailbox, which must wake the loop, and finishes
    /// on the loop's thread.
    @Test func anAwaitResumedFromAnotherThreadStillAnswersOnTheLoop() async throws {
        let live = try LiveServer(configuration: LiveServer.configuration(loops: 1), router: Self.router())
        defer { live.stop() }
        let client = try WireClient(port: live.port)
        client.send("GET /immediate HTTP/1.1\r\nHost: t\r\n\r\n")
        let loopThread = try #require(await client.readResponse()).body
        let gate = UUID().uuidString
        client.send("GET /gated?id=\(gate) HTTP/1.1\r\nHost: t\r\n\r\n")
        try await Gate.arrival(gate)
        await Gate.shared.open(gate)
        let response = try #require(await client.readResponse())
        #expect(response.body == "gate \(gate) on \(loopThread)")
    }

    /// Failed when jobs enqueued after the loop had ended were dropped: the
    /// handler never got past its gate.
    @Test func aTaskWhoseLoopHasEndedStillFinishes() async throws {
        let finished = Locked<[String]>([])
        let live = try LiveServer(configuration: LiveServer.configuration(loops: 1), router: Self.router(afterGate: finished))
        let client = try WireClient(port: live.port)
        let gate = UUID().uuidString
        client.send("GET /gated?id=\(gate) HTTP/1.1\r\nHost: t\r\n\r\n")
        try await Gate.arrival(gate)
        live.server.shutdown(drainTimeout: .zero)
        await live.server.waitUntilStopped()
        await Gate.shared.open(gate)
        try await eventually("the handler finishing after its loop ended") {
            finished.withLock { $0.contains(gate) }
        }
    }
}
