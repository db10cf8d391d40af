import Foundation
import Testing
import TestSupport
@testable import HTTPServer
import TrustPayWebhooksTesting
import Locking

/// All event loops share one listening socket per listener, so a port is
/// either this server's or another's, never split between two processes.
@Suite struct ListenerTests {
    /// Failed while each loop bound its own SO_REUSEPORT socket: the second
    /// server started and the kernel gave it part of the connections.
    @Test(arguments: ["127.0.0.1", "::1"])
    func secondServerOnAPortInUseFailsToStartNamingIt(host: String) async throws {
        let first = try LiveServer(configuration: LiveServer.configuration(host: host))
        defer { first.stop() }
        var configuration = LiveServer.configuration(host: host)
        configuration.listeners[0].address.port = first.port
        let second = Server(configuration: configuration, router: LiveServer.standardRouter())
        #expect {
            try second.start()
        } throws: { error in
            guard case SocketError.addressInUse(let address) = error else { return false }
            return address.port == first.port && "\(error)".contains("port \(first.port)")
        }
        // Every connection still reaches the first server.
        for _ in 0..<8 {
            let client = try WireClient(port: first.port, host: host)
            client.send("GET /healthz HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
            #expect(await client.readResponse()?.status == 200)
        }
    }

    /// The shared socket is closed once every loop has let go of it: the
    /// port refuses connections and can be bound again. (Eventually: a child
    /// another test forks holds a copy of every descriptor until its exec,
    /// and another socket may take the free port meanwhile; neither is this
    /// server's doing, both are brief.)
    @Test func portIsFreeAgainAfterStop() async throws {
        let first = try LiveServer(configuration: LiveServer.configuration(loops: 3))
        let port = first.port
        first.stop()
        try await eventually("the port refusing connections") { await connectionRefused(port: port) }
        var configuration = LiveServer.configuration(loops: 3)
        configuration.listeners[0].address.port = port
        let again = Locked<LiveServer?>(nil)
        try await eventually("the port bound again") { [configuration] in
            let server = try? LiveServer(configuration: configuration)
            again.withLock { $0 = server }
            return server != nil
        }
        let live = try #require(again.withLock { $0 })
        defer { live.stop() }
        let client = try WireClient(port: port)
        client.send("GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
        #expect(await client.readResponse()?.status == 200)
    }

    /// Many connections open at once over three loops sharing one socket:
    /// each is served by exactly one loop, and the loops share them evenly.
    /// Without the hand-off to the least-loaded loop, the loop EPOLLEXCLUSIVE
    /// woke first took most of a burst (seen: one core busy, one idle).
    @Test func concurrentConnectionsAreSpreadOverTheLoopsAndAllServed() async throws {
        let live = try LiveServer(configuration: LiveServer.configuration(loops: 3))
        defer { live.stop() }
        let clients = try (0..<48).map { _ in try WireClient(port: live.port) }
        for client in clients { client.send("GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n") }
        for client in clients { #expect(await client.readResponse()?.status == 200) }
        #expect(live.server.openConnections == 48)
        let perLoop = live.server.connectionsPerLoop
        #expect(perLoop.reduce(0, +) == 48 && perLoop.max()! - perLoop.min()! <= 1, "\(perLoop)")
    }
}

/// `maxConnectionsPerSource`: one address cannot take every connection.
@Suite struct ConnectionCapTests {
    /// The third connection from one address is refused at accept with a
    /// 429 before it sends anything; once one closes, a new one is served.
    @Test func aSourceOverItsCapGets429AtAcceptAndIsServedAgainAfterAClose() async throws {
        let live = try LiveServer(configuration: LiveServer.configuration { $0.maxConnectionsPerSource = 2 })
        defer { live.stop() }
        var held = try (0..<2).map { _ in try WireClient(port: live.port) }
        for client in held {
            client.send("GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
            #expect(await client.readResponse()?.status == 200)
        }
        let third = try WireClient(port: live.port)
        let refused = try #require(await third.readResponse())
        #expect(refused.status == 429)
        #expect(await third.isClosedByPeer())
        held.removeFirst()  // closes it
        try await eventually("the closed connection released") { live.server.openConnections == 1 }
        let again = try WireClient(port: live.port)
        again.send("GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
        #expect(await again.readResponse()?.status == 200)
        _ = held
    }

    /// Without a cap, many connections from one address are all served.
    @Test func noCapByDefault() async throws {
        let live = try LiveServer(configuration: LiveServer.configuration())
        defer { live.stop() }
        var clients: [WireClient] = []
        for _ in 0..<20 {
            let client = try WireClient(port: live.port)
            client.send("GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
            #expect(await client.readResponse()?.status == 200)
            clients.append(client)
        }
        #expect(live.server.openConnections == 20)
    }
}
