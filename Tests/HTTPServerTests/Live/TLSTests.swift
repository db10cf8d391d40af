import Foundation
import Testing
@testable import HTTPServer

/// A throwaway CA and a server certificate for localhost/127.0.0.1/::1,
/// made by the openssl command line at test time.
struct TestCertificates {
    let directory: String
    var caPath: String { directory + "/ca.pem" }
    var certificatePath: String { directory + "/server.pem" }
    var keyPath: String { directory + "/server.key" }

    private init(directory: String) {
        self.directory = directory
    }

    static func make() async throws -> TestCertificates {
        let directory = NSTemporaryDirectory() + "tls-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1\n"
            .write(toFile: directory + "/san.ext", atomically: true, encoding: .utf8)
        let steps: [[String]] = [
            ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
             "-keyout", "ca.key", "-out", "ca.pem", "-days", "1", "-subj", "/CN=trustpay-webhooks test CA"],
            ["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
             "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=localhost"],
            ["x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
             "-out", "server.pem", "-days", "1", "-extfile", "san.ext"],
        ]
        for step in steps {
            let result = try await ExternalProgram.run("openssl", step, directory: directory)
            guard result.status == 0 else { throw TLSError.setup("openssl \(step[0]): \(result.stderr)") }
        }
        return TestCertificates(directory: directory)
    }

    func remove() { try? FileManager.default.removeItem(atPath: directory) }

    var tls: TLSConfiguration { TLSConfiguration(certificateChainPath: certificatePath, privateKeyPath: keyPath) }
}

@Suite struct TLSTests {
    func tlsServer(_ certificates: TestCertificates) throws -> LiveServer {
        var configuration = LiveServer.configuration()
        configuration.listeners[0].tls = certificates.tls
        return try LiveServer(configuration: configuration)
    }

    @Test func curlSpeaksTLS13WithALPNAndVerifiesTheChain() async throws {
        let certificates = try await TestCertificates.make()
        defer { certificates.remove() }
        let live = try tlsServer(certificates)
        defer { live.stop() }
        let url = "https://localhost:\(live.port)"
        let result = try await ExternalProgram.run("curl", [
            "-sS", "-v", "--cacert", certificates.caPath, "--resolve", "localhost:\(live.port):127.0.0.1",
            "\(url)/peer", "--data-binary", "x", "-X", "GET", "\(url)/healthz",
        ])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.hasPrefix("https "))
        #expect(result.stdout.hasSuffix("ok\n"))
        #expect(result.stderr.contains("TLSv1.3"))
        #expect(result.stderr.contains("ALPN: server accepted http/1.1")
                || result.stderr.contains("ALPN, server accepted to use http/1.1"))
    }

    @Test func postsABodyOverTLS() async throws {
        let certificates = try await TestCertificates.make()
        defer { certificates.remove() }
        let live = try tlsServer(certificates)
        defer { live.stop() }
        let body = String(repeating: "0123456789", count: 5000)
        let result = try await ExternalProgram.run("curl", [
            "-sS", "--cacert", certificates.caPath, "--resolve", "localhost:\(live.port):127.0.0.1",
            "--data-binary", "@-", "https://localhost:\(live.port)/echo",
        ], input: body)
        #expect(result.stdout == body)
    }

    @Test(arguments: [("-tls1_2", "TLSv1.2"), ("-tls1_3", "TLSv1.3")])
    func negotiatesTLS12AndTLS13(flag: String, version: String) async throws {
        let certificates = try await TestCertificates.make()
        defer { certificates.remove() }
        let live = try tlsServer(certificates)
        defer { live.stop() }
        let result = try await ExternalProgram.run("openssl", [
            "s_client", "-connect", "127.0.0.1:\(live.port)", flag, "-CAfile", certificates.caPath,
            "-alpn", "http/1.1", "-ign_eof",
        ], input: "GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        let all = result.stdout + result.stderr
        #expect(all.contains("Protocol  : \(version)"), "\(all)")
        #expect(all.contains("ALPN protocol: http/1.1"), "\(all)")
        #expect(all.contains("HTTP/1.1 200 OK"), "\(all)")
    }

    @Test func refusesTLS11() async throws {
        let certificates = try await TestCertificates.make()
        defer { certificates.remove() }
        let live = try tlsServer(certificates)
        defer { live.stop() }
        // The client is made willing (security level 0); the server must say no.
        let result = try await ExternalProgram.run("openssl", [
            "s_client", "-connect", "127.0.0.1:\(live.port)", "-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0", "-brief",
        ], input: "")
        #expect(result.status != 0)
        #expect(!(result.stdout + result.stderr).contains("Protocol version: TLSv1.1"))
        // The server is unharmed.
        let after = try await ExternalProgram.run("curl", [
            "-sS", "--cacert", certificates.caPath, "--resolve", "localhost:\(live.port):127.0.0.1",
            "https://localhost:\(live.port)/healthz",
        ])
        #expect(after.stdout == "ok\n")
    }

    @Test func plaintextRequestOnTheTLSPortGetsAClearErrorAndClose() async throws {
        let certificates = try await TestCertificates.make()
        defer { certificates.remove() }
        let live = try tlsServer(certificates)
        defer { live.stop() }
        let client = try WireClient(port: live.port)
        client.send("GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
        let response = try #require(await client.readResponse())
        #expect(response.status == 400)
        #expect(response.body.contains("plain_http_on_tls_port"))
        #expect(await client.isClosedByPeer())
    }

    @Test func brokenHandshakesAreClosedAndDoNotLeak() async throws {
        let certificates = try await TestCertificates.make()
        defer { certificates.remove() }
        let live = try tlsServer(certificates)
        defer { live.stop() }
        for round in 0..<20 {
            let client = try WireClient(port: live.port)
            // A TLS record header followed by garbage, or a cut-off hello.
            client.send([0x16, 0x03, 0x01, 0x00, 0x40] + (0..<(round % 2 == 0 ? 64 : 3)).map { UInt8(truncatingIfNeeded: $0 &* 37) })
            if round % 2 == 0 { #expect(await client.isClosedByPeer()) }
        }
        // Cut-off hellos wait for more bytes; dropping the clients closes them.
        var waited = 0
        while live.server.openConnections > 0 && waited < 50 {
            try await Task.sleep(for: .microseconds(100_000))
            waited += 1
        }
        #expect(live.server.openConnections == 0)
    }
}
