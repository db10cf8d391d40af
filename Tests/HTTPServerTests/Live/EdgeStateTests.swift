import ChildProcesses
import Foundation
import Testing
import TestSupport
@testable import HTTPServer
import TrustPayWebhooksTesting

/// States at the edges of a connection's life, each once wrong here.
@Suite struct EdgeStateTests {
    /// A client that pipelines more than the input buffer holds behind a
    /// request whose handler is running, then half-closes: the buffer is full,
    /// so the loop must stop watching for the half-close too. Failed with
    /// EPOLLRDHUP left in the interest set: the level-triggered event woke
    /// the loop tens of thousands of times while the handler waited.
    @Test func fullBufferAndHalfClosedPeerDoNotSpinTheLoop() async throws {
        let live = try LiveServer(configuration: LiveServer.configuration(loops: 1))
        defer { live.stop() }
        let gate = UUID().uuidString
        let client = try WireClient(port: live.port)
        client.send("GET /gate?id=\(gate) HTTP/1.1\r\nHost: t\r\n\r\n")
        try await Gate.arrival(gate)
        let pipelined = String(repeating: "GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n", count: 1500)  // 52 KB
        client.send(pipelined)
        client.shutdownWrite()
        // Long enough for a spinning loop to wake thousands of times.
        try await Task.sleep(for: .milliseconds(200))
        let before = live.server.loopWakeups[0]
        try await Task.sleep(for: .milliseconds(300))
        let woken = live.server.loopWakeups[0] - before
        #expect(woken < 20, "the loop woke \(woken) times in 300 ms with nothing to do")
        await Gate.shared.open(gate)
        let first = try #require(await client.readResponse())
        #expect(first.body == "gate \(gate)\n")
        // Every pipelined request is answered once the handler is done.
        var answered = 0
        while answered < 1500, let response = await client.readResponse() {
            #expect(response.status == 200)
            answered += 1
        }
        #expect(answered == 1500)
    }

    /// Idle keep-alive connections cost the loop nothing until a deadline
    /// is due: it sleeps until the earliest one instead of waking on a fixed
    /// tick to scan them all. Failed with the 250 ms tick: about 4 polls a
    /// second with nothing to do.
    @Test func anIdleLoopSleepsUntilItsNextDeadline() async throws {
        let live = try LiveServer(configuration: LiveServer.configuration(loops: 1))
        defer { live.stop() }
        var clients: [WireClient] = []
        for _ in 0..<20 {
            let client = try WireClient(port: live.port)
            client.send("GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
            #expect(await client.readResponse()?.status == 200)
            clients.append(client)
        }
        let before = live.server.loopPolls[0]
        try await Task.sleep(for: .milliseconds(1200))
        let polls = live.server.loopPolls[0] - before
        #expect(polls <= 1, "the loop polled \(polls) times in 1.2 s with 20 idle connections due in 120 s")
        // And the deadlines still hold: the connections are open and served.
        for client in clients {
            client.send("GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
            #expect(await client.readResponse()?.status == 200)
        }
    }

    /// If OpenSSL cannot create a session, the connection is closed at once:
    /// a TLS port never answers in plaintext. Failed when the connection
    /// fell back to plain HTTP and answered `GET /healthz` with 200.
    @Test func aTLSPortWithoutASessionClosesTheConnection() async throws {
        let certificates = try await TestCertificates.make()
        defer { certificates.remove() }
        var configuration = LiveServer.configuration()
        configuration.listeners[0].tls = certificates.tls
        configuration.listeners[0].tls?.failsNewSessions = true
        let live = try LiveServer(configuration: configuration)
        defer { live.stop() }
        let client = try WireClient(port: live.port)
        client.send("GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
        #expect(await client.readResponse() == nil)
        #expect(await client.isClosedByPeer())
        try await eventually("no connection left open") { live.server.openConnections == 0 }
    }

    /// Requests pipelined over TLS behind a running handler fill the input
    /// buffer, and the last of them wait decrypted inside OpenSSL while the
    /// socket itself is quiet: epoll will never report them. They must be
    /// read once the handler has answered and room is made.
    @Test func decryptedBytesPendingInOpenSSLAreServedWhenTheSocketIsQuiet() async throws {
        let certificates = try await TestCertificates.make()
        defer { certificates.remove() }
        var configuration = LiveServer.configuration(loops: 1)
        configuration.listeners[0].tls = certificates.tls
        let live = try LiveServer(configuration: configuration)
        defer { live.stop() }
        let gate = UUID().uuidString
        let script = """
            import socket, ssl, sys
            port, gate, count = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
            context = ssl.create_default_context(cafile=sys.argv[4])
            raw = socket.create_connection(("127.0.0.1", port))
            tls = context.wrap_socket(raw, server_hostname="localhost")
            request = b"GET /healthz HTTP/1.1\\r\\nHost: t\\r\\n\\r\\n"
            tls.sendall(b"GET /gate?id=" + gate.encode() + b" HTTP/1.1\\r\\nHost: t\\r\\n\\r\\n")
            # One short record, then exactly two full 16 KiB records: the
            # input buffer (32 KiB) fills while the end of the last record is
            # decrypted inside OpenSSL and nothing is left in the socket.
            total = 1000 + 2 * 16384
            pad = total - len(request) * count
            first = b"GET /healthz HTTP/1.1\\r\\nHost: t\\r\\nX-P: " + b"a" * (pad - 7) + b"\\r\\n\\r\\n"
            stream = first + request * (count - 1)
            assert len(stream) == total
            tls.sendall(stream[:1000])
            tls.sendall(stream[1000:])
            tls.settimeout(20)
            data = b""
            while data.count(b"HTTP/1.1 ") < count + 1:
                chunk = tls.recv(65536)
                if not chunk:
                    break
                data += chunk
            print(data.count(b"HTTP/1.1 200"))
            """
        let count = 964  // 33,768 bytes of requests: more than the 32 KiB input buffer
        async let client = ChildProcess.run(
            ["python3", "-c", script, "\(live.port)", gate, "\(count)", certificates.caPath], timeout: .seconds(60))
        do {
            try await Gate.arrival(gate)
        } catch {
            let failed = try await client
            Issue.record("the client never reached the handler: \(failed.stderr)")
            return
        }
        // Let the server read until its buffer is full.
        try await Task.sleep(for: .milliseconds(500))
        await Gate.shared.open(gate)
        let result = try await client
        #expect(result.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "\(count + 1)", "\(result.stderr)")
    }
}
