import ChildProcesses
import Foundation
import Testing
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

/// `send` reaching what Foundation's URLSession on Linux cannot: an IPv6
/// literal host, and a TLS server whose certificate a private CA signed.
@Suite(.serialized) struct SendTransportTests {
    static let secret = "transport-secret"
    static let merchant = String(ScratchDirectory.merchantID)

    static func config(host: String, tls: String = "") -> String {
        """
        server:
          host: "\(host)"
          port: 0
          event_loops: 1\(tls)
        store:
          kind: memory
        merchants:
          - id: \(merchant)
            secrets: [{value: "\(secret)"}]
        handlers: []
        """
    }

    /// `serve` with `yaml`; its port read from the log line `address=…:PORT`, whatever the address.
    static func serve(_ yaml: String, in directory: ScratchDirectory) async throws -> (pid: Int32, port: Int) {
        let config = directory.file("serve.yaml", contents: yaml)
        let log = directory.url.appendingPathComponent("serve.log")
        let child = try ChildProcess.spawn(
            [try BuiltCLI.path(), "serve", "--config", config.path], stdout: log.path + ".out", stderr: log.path,
            directory: directory.url.path)
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
            if let range = text.range(of: #"address=\S+:[0-9]+"#, options: .regularExpression),
               let port = Int(text[range].split(separator: ":").last ?? "")
            {
                return (child.pid, port)
            }
            if kill(child.pid, 0) != 0 { Issue.record("serve exited before listening:\n\(text)"); break }
            try await Task.sleep(for: .milliseconds(50))
        }
        kill(child.pid, SIGKILL)
        throw CancellationError()
    }

    /// URLSession on Linux fails such a URL as a bad URL (NSURLErrorDomain -1000).
    @Test func sendReachesAnIPv6LiteralURL() async throws {
        let directory = try ScratchDirectory()
        defer { directory.remove() }
        let server = try await Self.serve(Self.config(host: "::1"), in: directory)
        defer { kill(server.pid, SIGKILL) }
        let result = try await BuiltCLI.run(
            ["send", "--secret", Self.secret, "--merchant-id", Self.merchant, "--order-no", "V6-1", "--repeat", "2",
             "--url", "http://[::1]:\(server.port)/trustpay/payment"], in: directory)
        #expect(result.status == 0, "\(result.output)")
        #expect(result.stdout.contains("[1/2] 200") && result.stdout.contains("[2/2] 200"), "\(result.output)")
    }

    /// With server.tls set the default URL is https; the private CA is
    /// trusted only through --cacert (or verification skipped by --insecure).
    @Test func sendReachesATLSServerWithAPrivateCA() async throws {
        let directory = try ScratchDirectory()
        defer { directory.remove() }
        let certificates = try await TestCertificates.make()
        defer { certificates.remove() }
        let dir = directory.url.path
        let server = try await Self.serve(Self.config(host: "127.0.0.1", tls: """

              tls:
                certificate: \(certificates.certificatePath)
                key: \(certificates.keyPath)
            """), in: directory)
        defer { kill(server.pid, SIGKILL) }
        let config = dir + "/serve.yaml"
        // The configured port is 0 (any free one), so the default URL only shows its scheme.
        let byDefault = try await BuiltCLI.run(["send", "--config", config, "--verbose", "--timeout", "1"],
                                               in: directory)
        #expect(byDefault.stdout.hasPrefix("POST https://127.0.0.1:0/trustpay/payment"), "\(byDefault.output)")
        let url = "https://127.0.0.1:\(server.port)/trustpay/payment"
        func send(_ extra: [String]) async throws -> CommandResult {
            try await BuiltCLI.run(["send", "--config", config, "--order-no", "TLS-1", "--url", url] + extra,
                                   in: directory)
        }
        let trusted = try await send(["--cacert", certificates.caPath])
        #expect(trusted.status == 0, "\(trusted.output)")
        #expect(trusted.stdout.contains("[1/1] 200"), "\(trusted.output)")

        let untrusted = try await send([])
        #expect(untrusted.status != 0, "\(untrusted.output)")
        #expect(untrusted.stdout.contains("certificate"), "\(untrusted.output)")
        // The server's own certificate is not a CA: still refused.
        let wrongCA = try await send(["--cacert", certificates.certificatePath])
        #expect(wrongCA.status != 0 && wrongCA.stdout.contains("not trusted"), "\(wrongCA.output)")

        let insecure = try await send(["--insecure"])
        #expect(insecure.status == 0 && insecure.stdout.contains("[1/1] 200"), "\(insecure.output)")
        let byName = try await BuiltCLI.run(
            ["send", "--config", config, "--order-no", "TLS-1", "--cacert", certificates.caPath,
             "--url", "https://localhost:\(server.port)/trustpay/payment"], in: directory)
        #expect(byName.status == 0 && byName.stdout.contains("[1/1] 200"), "\(byName.output)")
    }

    @Test func cacertAndInsecureAreRefusedWhereTheyMeanNothing() async throws {
        let directory = try ScratchDirectory()
        defer { directory.remove() }
        let base = ["send", "--secret", "s", "--merchant-id", "1"]
        let both = try await BuiltCLI.run(
            base + ["--url", "https://127.0.0.1:9/x", "--cacert", "ca.pem", "--insecure"], in: directory)
        #expect(both.status == 64 && both.stderr.contains("contradict"), "\(both.output)")
        let plain = try await BuiltCLI.run(base + ["--url", "http://127.0.0.1:9/x", "--insecure"], in: directory)
        #expect(plain.status != 0 && plain.stderr.contains("https://"), "\(plain.output)")
    }
}
