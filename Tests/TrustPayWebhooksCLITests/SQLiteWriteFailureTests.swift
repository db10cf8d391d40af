import ChildProcesses
import Foundation
import Testing
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// `serve` on SQLite whose files may not grow past a limit (`ulimit -f`,
/// as a full filesystem would refuse them): callbacks get 503, `/readyz`
/// turns 503 (reads still work) and the log says SQLite's error. serve
/// ignores SIGXFSZ so that a write past the limit fails with EFBIG instead
/// of killing it; the exit status checks that, where the kernel sends the
/// signal (the sandbox this was written in did not: removing the ignore
/// did not make this test fail there).
@Suite struct SQLiteWriteFailureTests {
    static let secret = "write-failure-secret"

    @Test func aFileSizeLimitMakesCallbacksAndReadyz503AndTheServerStaysUp() async throws {
        let directory = try ScratchDirectory()
        defer { directory.remove() }
        let config = directory.file("serve.yaml", contents: directory.serveConfig(secret: Self.secret, "handlers: []"))
        let log = directory.url.appendingPathComponent("serve.log")
        // 1024 blocks of 512 bytes: 512 kB per file; the WAL reaches it first.
        let child = try ChildProcess.spawn(
            ["/bin/sh", "-c", "ulimit -f 1024 && exec \"$0\" serve --config \"$1\"", try BuiltCLI.path(), config.path],
            stdout: log.path + ".out", stderr: log.path, directory: directory.url.path)
        let exited = Task { await child.wait() }
        defer { kill(child.pid, SIGKILL) }

        var port: Int?
        let started = ContinuousClock.now + .seconds(30)  // safety net
        while port == nil && ContinuousClock.now < started {
            let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
            if let range = text.range(of: #"address=[0-9.]+:[0-9]+"#, options: .regularExpression) {
                port = Int(text[range].split(separator: ":").last ?? "")
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        let listening = try #require(port, "serve did not start")
        let paymentURL = "http://127.0.0.1:\(listening)/trustpay/payment"
        let readyz = "http://127.0.0.1:\(listening)/readyz"
        #expect(try await Self.status(readyz) == 200)

        var refused: CommandResult?
        var accepted = 0
        for index in 0..<1000 where refused == nil {  // safety net: the WAL fills long before
            let sent = try await BuiltCLI.run(
                ["send", "--secret", Self.secret, "--merchant-id", String(ScratchDirectory.merchantID),
                 "--url", paymentURL, "--order-no", "FILL-\(index)-" + String(repeating: "x", count: 40)], in: directory)
            if sent.status != 0 { refused = sent } else { accepted += 1 }
        }
        let failure = try #require(refused, "the file size limit was never reached")
        #expect(accepted > 0, "callbacks were stored until the limit: \(failure.output)\n\((try? String(contentsOf: log, encoding: .utf8)) ?? "")")
        #expect(failure.output.contains("503"), "\(failure.output)")
        #expect(try await Self.status(readyz) == 503, "the store still answers reads, but cannot write")
        #expect(try await Self.status(readyz) == 503)
        let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        let notReady = text.split(separator: "\n").first { $0.contains("not ready") } ?? ""
        #expect(notReady.contains("disk I/O error") || notReady.contains("database or disk is full"), "\(text.suffix(3000))")

        child.signal(SIGKILL)
        #expect(await exited.value == 128 + SIGKILL, "killed by the test, not by SIGXFSZ")
    }

    static func status(_ url: String) async throws -> Int {
        let (_, response) = try await URLSession.shared.data(from: try #require(URL(string: url)))
        return (response as? HTTPURLResponse)?.statusCode ?? 0
    }
}
