import ChildProcesses
import Foundation
import Testing
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The built-in handlers as an attacker or a careless operator finds them,
/// against the real binary: exec runs that outlive their deadline, exec
/// output beside the server's log, the environment exec children see,
/// multi-line bodies into jsonl and log lines forged through request text.
@Suite(.serialized) struct HandlerHardeningTests {
    static let secret = "hardening-secret"
    static let merchant = String(ScratchDirectory.merchantID)

    static func send(_ server: ServeProcess, orderNo: String, in directory: ScratchDirectory) async throws {
        let sent = try await BuiltCLI.run(
            ["send", "--secret", secret, "--merchant-id", merchant, "--url", server.paymentURL, "--order-no", orderNo],
            in: directory)
        #expect(sent.status == 0, "\(sent.output)")
    }

    /// The handler takes a lock and sleeps far past the 2 s handler deadline,
    /// in a grandchild (`sleep & wait`) that holds the lock too. Each
    /// attempt's deadline must kill the whole group and reap it before the
    /// retry starts: a retry that finds the lock taken logs OVERLAP. Failed
    /// before the fix: the deadline only abandoned the run, and attempts 2
    /// and 3 each found the first still sleeping ("run", "OVERLAP", "OVERLAP").
    @Test func anExecRunPastItsDeadlineIsKilledAndReapedBeforeItsRetry() async throws {
        let directory = try ScratchDirectory()
        defer { directory.remove() }
        let lock = directory.url.path + "/handler.lock"
        let runs = directory.url.path + "/runs.log"
        let script = "exec 9>>\(lock); if ! flock -n 9; then echo OVERLAP >> \(runs); exit 1; fi; "
            + "echo run >> \(runs); sleep 30 & wait"
        let server = try await ServeProcess.start(config: directory.serveConfig(secret: Self.secret, """
            routes:
              payment:
                handler_deadline: 2s
            retry:
              attempts: 3
              initial_delay: 100ms
              max_delay: 200ms
            handlers:
              - type: exec
                command: ["sh", "-c", "\(script)"]
            """), in: directory)
        defer { server.stop() }
        try await Self.send(server, orderNo: "OVERLAP-1", in: directory)
        // The positive signal: every attempt has ended, the event is dead.
        let dead = try await StandaloneServerTests.listUntil(["--dead"], in: directory, within: .seconds(60)) {
            $0.count == 1
        }
        #expect(dead.first?["attempts"] as? Int == 3, "\(dead)")
        let lines = ((try? String(contentsOfFile: runs, encoding: .utf8)) ?? "").split(separator: "\n")
        // An attempt whose command had not even started by its deadline (a
        // very loaded machine) writes nothing; none may find another running.
        #expect(!lines.isEmpty && lines.allSatisfy { $0 == "run" }, "every attempt ran alone: \(lines)")
    }

    /// serve's standard error is a log file opened for appending, holding a
    /// line from before; the exec handler writes to its stdout and stderr.
    /// Failed before the fix (the child's stdout re-opened /dev/stderr with
    /// O_TRUNC): the earlier line and serve's own start lines were gone.
    @Test func execOutputJoinsTheServersLogWithoutTruncatingIt() async throws {
        let directory = try ScratchDirectory()
        defer { directory.remove() }
        let earlier = "an earlier line of this log, before serve started"
        directory.file("serve.log", contents: earlier + "\n")
        let server = try await ServeProcess.start(config: directory.serveConfig(secret: Self.secret, """
            handlers:
              - type: exec
                command: ["sh", "-c", "cat >/dev/null; echo handler-said-stdout; echo handler-said-stderr >&2"]
            """), in: directory, appendLog: true)
        defer { server.stop() }
        try await Self.send(server, orderNo: "LOG-INTACT-1", in: directory)
        _ = try await StandaloneServerTests.listUntil([], in: directory) { $0.first?["state"] as? String == "completed" }
        let text = (try? String(contentsOf: server.log, encoding: .utf8)) ?? ""
        #expect(text.hasPrefix(earlier), "\(text)")
        #expect(text.contains("callbacks on http://"), "serve's own start lines are still there: \(text)")
        #expect(text.contains("handler-said-stdout") && text.contains("handler-said-stderr"), "\(text)")
    }

    /// The server runs with TRUSTPAY_SECRET and other variables set; the exec
    /// handler sees the safe base, the one variable its `env` passes on and
    /// the one it sets, and nothing else. Failed before the fix: the child
    /// printed TRUSTPAY_SECRET (children inherited the whole environment).
    @Test func execChildrenGetACleanEnvironmentPlusWhatTheConfigurationNames() async throws {
        let directory = try ScratchDirectory()
        defer { directory.remove() }
        let out = directory.url.path + "/env.out"
        let environment = [
            "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin",
            "TRUSTPAY_SECRET": "server-only-secret", "DATABASE_URL": "postgres://u:p@h/db",
            "HANDLER_REGION": "eu-west", "HOME": "/root",
        ]
        let server = try await ServeProcess.start(config: directory.serveConfig(secret: Self.secret, """
            handlers:
              - type: exec
                env: [HANDLER_REGION, "HANDLER_MODE=replay-safe"]
                command: ["sh", "-c", "cat >/dev/null; env > \(out)"]
            """), in: directory, environment: environment)
        defer { server.stop() }
        try await Self.send(server, orderNo: "ENV-1", in: directory)
        _ = try await StandaloneServerTests.listUntil([], in: directory) { $0.first?["state"] as? String == "completed" }
        let seen = ((try? String(contentsOfFile: out, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
        let names = Set(seen.compactMap { $0.split(separator: "=", maxSplits: 1).first.map(String.init) })
        #expect(seen.contains("HANDLER_REGION=eu-west") && seen.contains("HANDLER_MODE=replay-safe"), "\(seen)")
        #expect(!names.contains("TRUSTPAY_SECRET") && !names.contains("DATABASE_URL"), "\(seen)")
        // What is left is the shell's own bookkeeping (PWD, SHLVL, _) and the base.
        let expected: Set<String> = ["PATH", "HOME", "HANDLER_REGION", "HANDLER_MODE", "PWD", "SHLVL", "_", "OLDPWD"]
        #expect(names.isSubset(of: expected), "\(names.subtracting(expected))")
    }

    /// A signed callback sent over several lines (indented JSON, as TrustPay
    /// or a proxy may send it) is one line of the jsonl file. Failed before
    /// the fix: the body was embedded verbatim, one event made 6 lines.
    @Test func aMultiLineBodyIsOneJSONLine() async throws {
        let directory = try ScratchDirectory()
        defer { directory.remove() }
        let events = directory.url.path + "/events.jsonl"
        let server = try await ServeProcess.start(config: directory.serveConfig(secret: Self.secret, """
            handlers:
              - type: jsonl
                path: \(events)
            """), in: directory)
        defer { server.stop() }
        let signed = try await BuiltCLI.run(
            ["sign", "--body", "--secret", Self.secret, "-"], stdin: """
                {"type":0,"merchant_id":\(Self.merchant),"order_no":"ML-1","order_amount":"20.00","status":5,"pay_time":"2026-11-30 01:02:03"}
                """, in: directory)
        #expect(signed.status == 0, "\(signed.output)")
        // No value holds a comma or a brace, so this only adds whitespace between tokens.
        let multiLine = signed.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            .replacingOccurrences(of: "{", with: "{\n  ").replacingOccurrences(of: ",", with: ",\n  ")
            .replacingOccurrences(of: "}", with: "\r\n}")
        #expect(multiLine.split(separator: "\n").count > 5)
        var request = URLRequest(url: try #require(URL(string: server.paymentURL)))
        request.httpMethod = "POST"
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.httpBody = Data(multiLine.utf8)
        let (_, response) = try await URLSession.shared.data(for: request)
        #expect((response as? HTTPURLResponse)?.statusCode == 200)
        _ = try await StandaloneServerTests.listUntil([], in: directory) { $0.first?["state"] as? String == "completed" }
        let text = try String(contentsOfFile: events, encoding: .utf8)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.count == 2 && lines[1].isEmpty, "one line and its newline: \(text)")
        let object = try #require(JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as? [String: Any])
        let body = try #require(object["body"] as? [String: Any])
        #expect(body["order_no"] as? String == "ML-1")
        #expect(lines[0].contains(#""order_amount":"20.00""#), "the amount keeps its digits: \(lines[0])")
    }

    /// serve may not grow files past 8 KiB (`ulimit -f 16`, as a full disk
    /// refuses writes); the memory store keeps SQLite out of it. Events go
    /// into jsonl until a line no longer fits and is written half-way: the
    /// file must still end at a line boundary, every line whole. Failed
    /// before the fix: the file ended in the torn half of a line.
    @Test func aWriteThatFailsHalfWayLeavesNoTornLine() async throws {
        let directory = try ScratchDirectory()
        defer { directory.remove() }
        let events = directory.url.appendingPathComponent("events.jsonl")
        let config = directory.file("serve.yaml", contents: directory.serveConfig(secret: Self.secret, """
            retry:
              attempts: 2
              initial_delay: 100ms
              max_delay: 100ms
            handlers:
              - type: jsonl
                path: \(events.path)
            """).replacingOccurrences(of: "kind: sqlite", with: "kind: memory"))
        let log = directory.url.appendingPathComponent("serve.log")
        let child = try ChildProcess.spawn(
            ["/bin/sh", "-c", "ulimit -f 16 && exec \"$0\" serve --config \"$1\"", try BuiltCLI.path(), config.path],
            output: .file(log.path + ".out"), errors: .file(log.path), directory: directory.url.path)
        defer { kill(child.pid, SIGKILL) }
        let server = try await Self.waitForPort(log: log, pid: child.pid, events: events)
        var refused = false
        for index in 0..<200 where !refused {  // safety net: ~20 lines fill 8 KiB
            try await Self.send(server, orderNo: "FULL-\(index)-" + String(repeating: "x", count: 200), in: directory)
            // The failure is logged once an attempt could not write.
            let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
            refused = text.contains("handler attempt failed")
            if !refused { _ = try await Self.waitForLines(index + 1, in: events, log: log) }
        }
        #expect(refused, "the file size limit was never reached")
        let bytes = try Data(contentsOf: events)
        #expect(bytes.last == UInt8(ascii: "\n"), "ends at a line boundary: \(String(decoding: bytes.suffix(80), as: UTF8.self))")
        for line in bytes.split(separator: UInt8(ascii: "\n")) {
            #expect((try? JSONSerialization.jsonObject(with: Data(line))) != nil, "a whole line: \(String(decoding: line, as: UTF8.self))")
        }
    }

    static func waitForPort(log: URL, pid: pid_t, events: URL) async throws -> ServeProcess {
        let deadline = ContinuousClock.now + .seconds(30)  // safety net
        while ContinuousClock.now < deadline {
            let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
            if let range = text.range(of: #"address=[0-9.]+:[0-9]+"#, options: .regularExpression),
               let port = Int(text[range].split(separator: ":").last ?? "")
            {
                return ServeProcess(pid: pid, port: port, events: events)
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw CancellationError()
    }

    /// Waits until `events` has `count` lines, or the log reports a failed write.
    static func waitForLines(_ count: Int, in events: URL, log: URL) async throws -> Bool {
        let deadline = ContinuousClock.now + .seconds(20)  // safety net
        while ContinuousClock.now < deadline {
            let lines = ((try? String(contentsOf: events, encoding: .utf8)) ?? "").split(separator: "\n").count
            if lines >= count { return true }
            if ((try? String(contentsOf: log, encoding: .utf8)) ?? "").contains("handler attempt failed") { return false }
            try await Task.sleep(for: .milliseconds(20))
        }
        return false
    }

    /// Risk-control requests are not signed: anyone may send one. Their
    /// `orderId` goes into a log line; with a newline in it, it must not
    /// start a line of its own. Failed before the fix: a line began with
    /// "FORGED".
    @Test func requestTextCannotStartALogLine() async throws {
        let directory = try ScratchDirectory()
        defer { directory.remove() }
        let server = try await ServeProcess.start(config: directory.serveConfig(secret: Self.secret, """
            routes:
              risk_control:
                decision: allow
            handlers:
              - type: log
            """), in: directory)
        defer { server.stop() }
        var request = URLRequest(url: try #require(URL(string: "http://127.0.0.1:\(server.port)/trustpay/risk-control")))
        request.httpMethod = "POST"
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.httpBody = Data(#"""
            {"orderId":"R-1\nFORGED error trustpay-webhooks: admin login\r\u2028x","cardPrefix":"411111","cardSuffix":"1111","cardHolderName":"A\nFORGED B"}
            """#.utf8)
        let (_, response) = try await URLSession.shared.data(for: request)
        #expect((response as? HTTPURLResponse)?.statusCode == 200)
        // A signed callback whose order number holds a newline, through the log handler.
        let body = try await BuiltCLI.run(
            ["sign", "--body", "--secret", Self.secret, "-"], stdin: #"""
                {"type":0,"merchant_id":\#(Self.merchant),"order_no":"P-1\nFORGED payment","order_amount":5,"status":5}
                """#, in: directory)
        var payment = URLRequest(url: try #require(URL(string: server.paymentURL)))
        payment.httpMethod = "POST"
        payment.setValue("application/json", forHTTPHeaderField: "Content-Type")
        payment.httpBody = Data(body.stdout.trimmingCharacters(in: .whitespacesAndNewlines).utf8)
        let (_, paid) = try await URLSession.shared.data(for: payment)
        #expect((paid as? HTTPURLResponse)?.statusCode == 200, "\(body.output)")
        let handled = try await Self.waitForLog(server, containing: "trustpay event")
        #expect(handled.contains(#"order_no=P-1\nFORGED payment"#), "\(handled)")
        let lines = handled.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r" || $0 == "\u{2028}" })
        #expect(!lines.contains { $0.hasPrefix("FORGED") }, "\(handled)")
        #expect(handled.contains(#"order_no=R-1\nFORGED error trustpay-webhooks: admin login\r\u2028x"#), "\(handled)")
    }

    static func waitForLog(_ server: ServeProcess, containing text: String) async throws -> String {
        let deadline = ContinuousClock.now + .seconds(20)  // safety net
        while true {
            let log = (try? String(contentsOf: server.log, encoding: .utf8)) ?? ""
            if log.contains(text) || ContinuousClock.now >= deadline { return log }
            try await Task.sleep(for: .milliseconds(50))
        }
    }
}
