import Foundation
import Testing
import TestSupport
@testable import HTTPServer
import TrustPayWebhooksTesting

/// Memory follows bytes that arrived, never promises or idleness.
@Suite struct ConnectionMemoryTests {
    /// After one request each, keep-alive connections wait holding no
    /// buffer at all. Failed while every connection kept its 4 KiB input
    /// buffer and its output buffer's capacity for its whole life.
    @Test func idleKeepAliveConnectionsHoldNoBuffers() async throws {
        let live = try LiveServer(configuration: LiveServer.configuration())
        defer { live.stop() }
        let clients = try (0..<50).map { _ in try WireClient(port: live.port) }
        for client in clients {
            client.send("GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
            #expect(await client.readResponse()?.status == 200)
        }
        #expect(live.server.openConnections == 50)
        #expect(await live.server.connectionBufferBytes() == 0)
    }

    /// Fifty clients each declare a 60,000-byte body and send 10 bytes of
    /// it: the server holds what arrived (a read buffer each, at most), not
    /// what was declared. Failed while the body buffer was reserved from
    /// Content-Length: about 3 MB for 500 bytes received.
    @Test func aDeclaredContentLengthReservesNothing() async throws {
        let live = try LiveServer(configuration: LiveServer.configuration())
        defer { live.stop() }
        let clients = try (0..<50).map { _ in try WireClient(port: live.port) }
        for client in clients {
            client.send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 60000\r\n\r\n0123456789")
        }
        try await eventually("every body started") {
            let held = await live.server.connectionBufferBytes()
            return live.server.openConnections == 50 && held >= 50 * 10
        }
        // Each holds its 10 bytes (in a small body array) and perhaps a read
        // buffer of the first size; never anything near 60,000 bytes.
        let held = await live.server.connectionBufferBytes()
        #expect(held <= 50 * (4096 + 256), "\(held) bytes held for 500 bytes received")
    }
}
