import ChildProcesses
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `check-config` and `serve` against the built binary: both refuse the
/// same configurations, with exit status 2 and the key named.
@Suite struct ConfigurationCommandTests {
    static let secret = "configuration-test-secret"
    static let merchant = String(ScratchDirectory.merchantID)

    /// The binary with extra environment variables (through env(1)).
    static func run(_ arguments: [String], environment: [String: String] = [:], in directory: ScratchDirectory)
        async throws -> CommandResult
    {
        let binary = try BuiltCLI.path()
        let variables = environment.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
        let result = try await ChildProcess.run(
            ["env"] + variables + [binary] + arguments, directory: directory.url.path, timeout: .seconds(30))
        return CommandResult(status: result.status, stdout: result.stdout, stderr: result.stderr)
    }

    static let merchants = """
        merchants:
          - id: \(merchant)
            secrets: [{value: "\(secret)"}]

        """

    static let listener = """
        server:
          host: 127.0.0.1
          port: 0
          event_loops: 1

        """

    struct Refusal: Sendable, CustomStringConvertible {
        let name: String
        let yaml: String
        var environment: [String: String] = [:]
        /// Files written beside the configuration first.
        var files: [String: String] = [:]
        let key: String
        var mentions: [String] = []
        var description: String { name }
    }

    static let refusals: [Refusal] = [
        Refusal(name: "TLS files that do not exist",
                yaml: listener + "  tls:\n    certificate: tls/cert.pem\n    key: tls/key.pem\nstore:\n  kind: memory\n" + merchants,
                key: "server.tls.certificate", mentions: ["no file at", "/tls/cert.pem"]),
        Refusal(name: "TLS files that do not load",
                yaml: listener + "  tls:\n    certificate: cert.pem\n    key: key.pem\nstore:\n  kind: memory\n" + merchants,
                files: ["cert.pem": "not a certificate\n", "key.pem": "not a key\n"],
                key: "server.tls.certificate", mentions: ["not a PEM certificate chain"]),
        Refusal(name: "a TLS file named by an environment variable",
                yaml: listener + "  tls:\n    certificate: cert.pem\n    key: key.pem\nstore:\n  kind: memory\n" + merchants,
                environment: ["TRUSTPAY_WEBHOOKS__SERVER__TLS__KEY": "/nonexistent/key.pem"],
                files: ["cert.pem": "not a certificate\n"],
                key: "server.tls.key", mentions: ["set by TRUSTPAY_WEBHOOKS__SERVER__TLS__KEY", "/nonexistent/key.pem"]),
        Refusal(name: "a PostgreSQL URL that does not parse",
                yaml: listener + "store:\n  kind: postgres\n  postgres:\n    url: \"mysql://user:hunter2@db/x\"\n" + merchants,
                key: "store.postgres.url", mentions: ["postgres://user:password@host"]),
        Refusal(name: "a forward secret that is not whsec_ and base64",
                yaml: listener + "store:\n  kind: memory\n" + merchants
                    + "handlers:\n  - type: forward\n    url: http://127.0.0.1:9/hook\n    secret: {value: \"hunter2\"}\n",
                key: "handlers[0].secret", mentions: ["whsec_"]),
        Refusal(name: "a lease too short for a route's deadline",
                yaml: listener + "store:\n  kind: memory\n  lease: 30s\nroutes:\n  payment:\n    handler_deadline: 20s\n" + merchants,
                key: "store.lease", mentions: ["routes.payment.handler_deadline"]),
        Refusal(name: "a list where a mapping is expected",
                yaml: listener + "store:\n  - kind: memory\n" + merchants,
                key: "store", mentions: ["expected a mapping", "got a list"]),
        Refusal(name: "a mapping where a list is expected",
                yaml: listener + "store:\n  kind: memory\nmerchants:\n  id: \(merchant)\n  secrets: [s]\n",
                key: "merchants", mentions: ["expected a list", "got a mapping"]),
        Refusal(name: "a bad value from the environment",
                yaml: listener + "store:\n  kind: memory\n" + merchants,
                environment: ["TRUSTPAY_WEBHOOKS__SERVER__PORT": "eighty"],
                key: "server.port", mentions: ["set by TRUSTPAY_WEBHOOKS__SERVER__PORT", "'eighty'"]),
        Refusal(name: "the same port for both listeners",
                yaml: "server:\n  port: 9\nadmin:\n  port: 9\nstore:\n  kind: memory\n" + merchants,
                key: "admin.port", mentions: ["server.port"]),
        Refusal(name: "no merchants",
                yaml: listener + "store:\n  kind: memory\n",
                key: "merchants", mentions: ["at least one merchant"]),
    ]

    @Test(arguments: refusals)
    func checkConfigAndServeRefuseTheSameConfiguration(_ refusal: Refusal) async throws {
        let directory = try ScratchDirectory()
        defer { directory.remove() }
        for (name, contents) in refusal.files { directory.file(name, contents: contents) }
        let config = directory.file("service.yaml", contents: refusal.yaml).path
        for command in ["check-config", "serve"] {
            let result = try await Self.run([command, "--config", config], environment: refusal.environment, in: directory)
            #expect(result.status == 2, "\(command): \(result.output)")
            #expect(result.stderr.contains("configuration key '\(refusal.key)'"), "\(command): \(result.output)")
            for text in refusal.mentions {
                #expect(result.stderr.contains(text), "\(command) does not say \(text): \(result.output)")
            }
            #expect(!result.output.contains("hunter2"), "\(command) printed a secret: \(result.output)")
            #expect(!result.output.contains("listening"), "\(command) bound a port: \(result.output)")
        }
    }

    @Test func servePortEqualToTheAdminPortNamesBoth() async throws {
        let directory = try ScratchDirectory()
        defer { directory.remove() }
        let config = directory.file(
            "service.yaml", contents: "server:\n  port: 0\nadmin:\n  port: 9\nstore:\n  kind: memory\n" + Self.merchants)
        let result = try await Self.run(["serve", "--config", config.path, "--port", "9"], in: directory)
        #expect(result.status == 2, "\(result.output)")
        #expect(result.stderr.contains("'admin.port'") && result.stderr.contains("--port"), "\(result.output)")
    }

    @Test func bothListenersAreNamedInTheLogAndByCheckConfig() async throws {
        let directory = try ScratchDirectory()
        defer { directory.remove() }
        let yaml = Self.listener + "admin:\n  host: 127.0.0.1\n  port: 0\nstore:\n  kind: memory\n" + Self.merchants
        let check = try await Self.run(
            ["check-config", "--config", directory.file("check.yaml", contents: yaml).path], in: directory)
        #expect(check.status == 0, "\(check.output)")
        #expect(check.stdout.contains("callbacks on http://127.0.0.1:0"), "\(check.output)")
        #expect(check.stdout.contains("admin on http://127.0.0.1:0"), "\(check.output)")

        let server = try await ServeProcess.start(config: yaml, in: directory)
        defer { server.stop() }
        let log = directory.url.appendingPathComponent("serve.log")
        let text = try await Self.logText(log) { $0.contains("admin on http://") }
        #expect(text.contains("callbacks on http://127.0.0.1:\(server.port)"), "\(text)")
        #expect(text.contains("admin on http://127.0.0.1:"), "\(text)")
    }

    /// A file with only merchants (and a free port) handles events with the
    /// default `log` handler and keeps the card route.
    @Test func aConfigurationWithOnlyMerchantsLogsEvents() async throws {
        let directory = try ScratchDirectory()
        defer { directory.remove() }
        let yaml = Self.listener + Self.merchants
        let check = try await Self.run(
            ["check-config", "--config", directory.file("check.yaml", contents: yaml).path], in: directory)
        #expect(check.status == 0, "\(check.output)")
        #expect(check.stdout.contains("POST /trustpay/card [merchant \(Self.merchant)]"), "\(check.output)")
        #expect(check.stdout.contains("handlers:  log"), "\(check.output)")

        let server = try await ServeProcess.start(config: yaml, in: directory)
        defer { server.stop() }
        let sent = try await BuiltCLI.run(
            ["send", "--secret", Self.secret, "--merchant-id", Self.merchant, "--url", server.paymentURL,
             "--order-no", "ONLY-MERCHANTS-1"], in: directory)
        #expect(sent.status == 0, "\(sent.output)")
        let log = directory.url.appendingPathComponent("serve.log")
        // The log handler's line, not the pipeline's own about the callback.
        let text = try await Self.logText(log) { text in
            text.split(separator: "\n").contains { $0.contains("trustpay event") && $0.contains("ONLY-MERCHANTS-1") }
        }
        #expect(text.split(separator: "\n").contains { $0.contains("trustpay event") && $0.contains("ONLY-MERCHANTS-1") },
                "\(text)")
        // The SQLite default lands beside the configuration file.
        #expect(FileManager.default.fileExists(
            atPath: directory.url.appendingPathComponent("data/trustpay-webhooks.sqlite").path))
    }

    @Test func noHandlersIsValidWhenSaidAndServeWarns() async throws {
        let directory = try ScratchDirectory()
        defer { directory.remove() }
        let yaml = Self.listener + "store:\n  kind: memory\n" + Self.merchants + "handlers: []\n"
        let check = try await Self.run(
            ["check-config", "--config", directory.file("check.yaml", contents: yaml).path], in: directory)
        #expect(check.status == 0, "\(check.output)")
        #expect(check.stdout.contains("handlers:  none"), "\(check.output)")
        let server = try await ServeProcess.start(config: yaml, in: directory)
        defer { server.stop() }
        let text = try await Self.logText(directory.url.appendingPathComponent("serve.log")) {
            $0.contains("nothing handles them")
        }
        #expect(text.contains("nothing handles them"), "\(text)")
    }

    @Test func relativePathsAreTheConfigurationFoldersWhereverServeStarts() async throws {
        let directory = try ScratchDirectory()
        defer { directory.remove() }
        try FileManager.default.createDirectory(
            at: directory.url.appendingPathComponent("conf"), withIntermediateDirectories: true)
        let config = directory.file("conf/service.yaml", contents: Self.listener
            + "store:\n  sqlite:\n    path: data/inbox.sqlite\n" + Self.merchants)
        let result = try await Self.run(["check-config", "--config", "conf/service.yaml"], in: directory)
        #expect(result.status == 0, "\(result.output)")
        let folder = config.deletingLastPathComponent().standardizedFileURL.path
        #expect(result.stdout.contains("sqlite at \(folder)/data/inbox.sqlite"), "\(result.output)")
        // check-config creates nothing.
        #expect(!FileManager.default.fileExists(atPath: folder + "/data"))
    }

    /// The log once `predicate` holds, or whatever it is at the deadline.
    static func logText(_ log: URL, within limit: Duration = .seconds(15), _ predicate: (String) -> Bool)
        async throws -> String
    {
        let deadline = ContinuousClock.now + limit
        while true {
            let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
            if predicate(text) || ContinuousClock.now >= deadline { return text }
            try await Task.sleep(for: .milliseconds(50))
        }
    }
}
