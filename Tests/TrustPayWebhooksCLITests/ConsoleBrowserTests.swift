import ChildProcesses
import Foundation
import Testing

/// The operator console in a real browser: `serve` with an admin token,
/// callbacks posted with `send`, then headless Chromium driven by Selenium
/// (`Browser/console_browser.py`) through what an operator does.
///
/// Needs `chromium`, `chromium-driver` (Debian) and `selenium` (PyPI), which
/// `.ci/run` installs. Without them the test is skipped, except under CI,
/// where it runs and fails saying what is missing.
@Suite struct ConsoleBrowserTests {
    static let secret = "console-browser-secret"
    static let token = "console-browser-token"
    static let hostile = "<script>window.pwned=1</script><img src=x onerror=window.pwned=2>"

    @Test(.enabled("needs chromium, chromium-driver and selenium (CI installs them)") {
        if ProcessInfo.processInfo.environment["CI"] != nil { return true }
        return await ConsoleBrowser.missing() == nil
    })
    func anOperatorFindsFiltersInspectsAndReplaysInTheBrowser() async throws {
        if let missing = await ConsoleBrowser.missing() {
            Issue.record("CI must install the browser tools: \(missing)")
            return
        }
        let directory = try ScratchDirectory()
        defer { directory.remove() }
        let fix = directory.url.path + "/fixed"
        // The handler fails for the dead order until the fix (a file) exists.
        let server = try await ServeProcess.start(config: directory.serveConfig(secret: Self.secret, """
            admin:
              host: 127.0.0.1
              port: 0
              token: {value: "\(Self.token)"}
            retry:
              attempts: 1
            handlers:
              - type: exec
                command: ["sh", "-c", 'e=$(cat); case "$e" in *BRW-DEAD*) test -f \(fix);; esac']
            """), in: directory)
        defer { server.stop() }
        let posts: [(order: String, extra: [String])] = [
            ("BRW-PAID", []), ("BRW-DEAD", []), ("BRW-DEAD-2", []), ("BRW-HOSTILE", ["--field", "remark=\(Self.hostile)"]),
            // BRW-PAID again with other signed content: a conflict, its copy kept.
            ("BRW-PAID", ["--field", "remark=\(Self.hostile)"]),
        ]
        for post in posts {
            let sent = try await BuiltCLI.run(
                ["send", "payin.succeeded", "--order-no", post.order, "--secret", Self.secret,
                 "--merchant-id", String(ScratchDirectory.merchantID), "--url", server.paymentURL] + post.extra,
                in: directory)
            #expect(sent.status == 0, "\(post.order): \(sent.output)")
        }
        let dead = try await StandaloneServerTests.listUntil(["--dead"], in: directory) { $0.count == 2 }
        let conflicted = try await StandaloneServerTests.listUntil(["--order-no", "BRW-PAID"], in: directory) {
            $0.first?["conflicts"] as? Int == 1
        }
        #expect(conflicted.count == 1, "\(conflicted)")
        #expect(dead.map { $0["order_no"] as? String } == ["BRW-DEAD", "BRW-DEAD-2"], "\(dead)")

        let log = try await ConfigurationCommandTests.logText(directory.url.appendingPathComponent("serve.log")) {
            $0.contains("console on ")
        }
        let startURL = try #require(ConsoleBrowser.startURL(in: log), "serve logs the console's address: \(log)")
        #expect(startURL.hasSuffix("/console/?token=\(Self.token)"), "\(startURL)")
        #expect(log.components(separatedBy: Self.token).count == 2, "the token is in the start line only:\n\(log)")

        let check = try await BuiltCLI.run(["check-config", "--config", directory.url.path + "/serve.yaml"], in: directory)
        #expect(check.stdout.contains("operator console /console/") && !check.output.contains(Self.token), "\(check.output)")

        let screenshots = ConsoleBrowser.screenshotFolder
        print("console screenshots: \(screenshots)")
        let run = try await ChildProcess.run(
            ["python3", ConsoleBrowser.script, "--start-url", startURL, "--screenshots", screenshots,
             "--orders", posts.map(\.order).joined(separator: ","), "--dead-order", "BRW-DEAD", "--second-dead-order", "BRW-DEAD-2",
             "--hostile-order", "BRW-HOSTILE", "--hostile-text", Self.hostile, "--conflict-order", "BRW-PAID",
             "--fix", fix],
            directory: directory.url.path, timeout: .seconds(180))
        #expect(run.status == 0, "the browser run failed:\n\(run.stdout)\n\(run.stderr)")
        #expect(run.stdout.contains("all checks passed"), "\(run.stdout)")
    }
}

/// Where the browser test finds its tools and leaves its screenshots.
enum ConsoleBrowser {
    static let chromium = "/usr/bin/chromium"
    static let driver = "/usr/bin/chromedriver"

    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Browser/console_browser.py").path

    /// `CONSOLE_SCREENSHOTS`, or a fixed folder under the temporary directory.
    static var screenshotFolder: String {
        ProcessInfo.processInfo.environment["CONSOLE_SCREENSHOTS"]
            ?? FileManager.default.temporaryDirectory.appendingPathComponent("trustpay-console-screenshots").path
    }

    /// What is missing to run the browser test, or nil.
    static func missing() async -> String? {
        for tool in [chromium, driver] where !FileManager.default.isExecutableFile(atPath: tool) {
            return "\(tool) is not installed (apt-get install chromium chromium-driver)"
        }
        let selenium = try? await ChildProcess.run(["python3", "-c", "import selenium"], timeout: .seconds(30))
        return selenium?.status == 0 ? nil : "python3 cannot import selenium (pip install selenium)"
    }

    /// The `console on http://…/console/?token=…` address from serve's log.
    static func startURL(in log: String) -> String? {
        guard let range = log.range(of: #"console on (http://[^ "\n]+)"#, options: .regularExpression) else { return nil }
        return String(log[range].dropFirst("console on ".count))
    }
}

/// Without `admin.token` nothing of the console is served, and the log says so.
@Suite struct ConsoleOffTests {
    @Test func aTokenFromAnUnsetVariableStopsServeAtStartNamingTheKey() async throws {
        let directory = try ScratchDirectory()
        defer { directory.remove() }
        let yaml = directory.serveConfig(secret: "s", "admin:\n  port: 0\n  token: {env: CONSOLE_TOKEN_NOT_SET_ANYWHERE}")
        let config = directory.file("serve.yaml", contents: yaml).path
        for command in [["check-config"], ["serve"]] {
            let result = try await BuiltCLI.run(command + ["--config", config], in: directory)
            #expect(result.status == 2, "\(command): \(result.output)")
            #expect(result.stderr.contains("'admin.token'") && result.stderr.contains("CONSOLE_TOKEN_NOT_SET_ANYWHERE"),
                    "\(command): \(result.output)")
        }
    }

    @Test func withoutATokenTheAdminListenerHasNoConsole() async throws {
        let directory = try ScratchDirectory()
        defer { directory.remove() }
        let server = try await ServeProcess.start(
            config: directory.serveConfig(secret: "off-secret", "admin:\n  host: 127.0.0.1\n  port: 0\nhandlers: []"),
            in: directory)
        defer { server.stop() }
        let log = try await ConfigurationCommandTests.logText(directory.url.appendingPathComponent("serve.log")) {
            $0.contains("operator console off")
        }
        #expect(log.contains("operator console off"), "\(log)")
        let range = try #require(log.range(of: #"admin on http://[0-9.]+:[0-9]+"#, options: .regularExpression), "\(log)")
        let admin = String(log[range].dropFirst("admin on ".count))
        for path in ["/console/", "/api/overview", "/console/console.js"] {
            let (status, _) = try await StandaloneServerTests.get(admin + path)
            #expect(status == 404, "\(path)")
        }
        let (metrics, _) = try await StandaloneServerTests.get(admin + "/metrics")
        #expect(metrics == 200, "the admin listener itself is unchanged")
        let check = try await BuiltCLI.run(["check-config", "--config", directory.url.path + "/serve.yaml"], in: directory)
        #expect(check.status == 0 && !check.stdout.contains("operator console"), "\(check.output)")
    }
}
