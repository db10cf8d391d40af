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

    /// Answers finished by one round of the loop's jobs are written after
    /// the round, together: written one by one between the jobs, each
    /// woke its client while the loop still had the others to run (a
    /// preemption of the loop per answer under load: BENCHMARKS.md,
    /// session 19). Two requests on two connections reach the loop in one
    /// round (it is held by a third until both are sent); each handler
    /// looks, from the loop's thread, whether the other's client has
    /// received anything yet. Fails when answers are written as each job
    /// finishes: the second handler sees the first's answer.
    @Test func answersOfOneRoundAreWrittenAfterItsJobs() async throws {
        let clients = Locked<[String: Int32]>([:])
        let held = Locked<(arrived: Bool, released: Bool)>((false, false))
        let sawOther = Locked<[String: Bool]>([:])
        var router = Router()
        router.add(.get, "/hold", .immediate { _ in
            held.withLock { $0.arrived = true }
            // Bounded: a test that never releases fails on its own deadline.
            var waited = 0
            while !held.withLock({ $0.released }), waited < 30_000 {
                usleep(1_000)
                waited += 1
            }
            return HTTPResponse(status: .ok, contentType: "text/plain", body: "held")
        })
        router.add(.get, "/peek", .nonBlocking { request in
            let me = String(request.query?.split(separator: "=").last ?? "")
            let other = clients.withLock { $0[me == "a" ? "b" : "a"] } ?? -1
            var byte: UInt8 = 0
            let waiting = recv(other, &byte, 1, Int32(MSG_PEEK | MSG_DONTWAIT))
            sawOther.withLock { $0[me] = waiting > 0 }
            return HTTPResponse(status: .ok, contentType: "text/plain", body: me)
        })
        let live = try LiveServer(configuration: LiveServer.configuration(loops: 1), router: router)
        defer { live.stop() }
        let holder = try WireClient(port: live.port)
        let a = try WireClient(port: live.port)
        let b = try WireClient(port: live.port)
        // Both accepted and registered with the loop before it is held.
        for (name, client) in [("a", a), ("b", b)] {
            client.send("GET /peek?me=warm HTTP/1.1\r\nHost: t\r\n\r\n")
            #expect(try #require(await client.readResponse()).status == 200)
            clients.withLock { $0[name] = client.fd }
        }
        holder.send("GET /hold HTTP/1.1\r\nHost: t\r\n\r\n")
        try await eventually("the loop held") { held.withLock { $0.arrived } }
        a.send("GET /peek?me=a HTTP/1.1\r\nHost: t\r\n\r\n")
        b.send("GET /peek?me=b HTTP/1.1\r\nHost: t\r\n\r\n")
        held.withLock { $0.released = true }
        #expect(try #require(await holder.readResponse()).body == "held")
        #expect(try #require(await a.readResponse()).body == "a")
        #expect(try #require(await b.readResponse()).body == "b")
        #expect(sawOther.withLock { $0 } == ["a": false, "b": false, "warm": false])
    }
}
