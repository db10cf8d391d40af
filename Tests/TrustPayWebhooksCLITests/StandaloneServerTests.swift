import BuiltinHandlers
import Foundation
import HTTPServer
import Testing
#if canImport(FoundationNetworking)
import FoundationNetworking
import Locking
#endif

/// The binary as a merchant runs it: SQLite store, built-in handlers,
/// operator commands against the same database, metrics, access control.
@Suite(.serialized) struct StandaloneServerTests {
    static let secret = "standalone-secret"
    static let merchant = String(ScratchDirectory.merchantID)

    static func config(_ directory: ScratchDirectory, handlers: String, extra: String = "") -> String {
        directory.serveConfig(secret: secret, """
            retry:
              attempts: 2
              initial_delay: 100ms
              max_delay: 200ms
            handlers:
            \(handlers)
            \(extra)
            """)
    }

    static func get(_ url: String) async throws -> (Int, String) {
        let (data, response) = try await URLSession.shared.data(from: URL(string: url)!)
        return ((response as? HTTPURLResponse)?.statusCode ?? 0, String(decoding: data, as: UTF8.self))
    }

    /// Polls `events list` until `predicate` holds for its JSON, or the deadline.
    static func listUntil(
        _ arguments: [String], in directory: ScratchDirectory, within limit: Duration = .seconds(20),
        _ predicate: ([[String: Any]]) -> Bool
    ) async throws -> [[String: Any]] {
        let deadline = ContinuousClock.now + limit
        while true {
            let result = try await BuiltCLI.run(
                ["events", "list", "--json", "--config", directory.url.path + "/serve.yaml"] + arguments, in: directory)
            let events = (try? JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [[String: Any]]) ?? []
            if predicate(events) || ContinuousClock.now >= deadline { return events }
            try await Task.sleep(for: .milliseconds(200))
        }
    }

    @Test func aDeadLetterIsReplayedByTheOperatorOnceTheHandlerIsFixed() async throws {
        let directory = try ScratchDirectory()
        defer { directory.remove() }
        let fixed = directory.url.path + "/fixed"
        let out = directory.url.path + "/exec.out"
        let server = try await ServeProcess.start(config: Self.config(directory, handlers: """
              - type: exec
                command: ["sh", "-c", "test -f \(fixed) && cat >> \(out)"]
            """), in: directory)
        defer { server.stop() }
        let sent = try await BuiltCLI.run(
            ["send", "--secret", Self.secret, "--merchant-id", Self.merchant, "--url", server.paymentURL,
             "--order-no", "DL-1"], in: directory)
        #expect(sent.status == 0, "\(sent.output)")

        let dead = try await Self.listUntil(["--dead"], in: directory) { $0.count == 1 }
        let event = try #require(dead.first)
        #expect(event["order_no"] as? String == "DL-1")
        #expect(event["attempts"] as? Int == 2)
        let id = try #require(event["id"] as? String)

        #expect(FileManager.default.createFile(atPath: fixed, contents: Data()))
        let replay = try await BuiltCLI.run(["events", "replay", id, "--config", directory.url.path + "/serve.yaml"],
                                            in: directory)
        #expect(replay.status == 0, "\(replay.output)")
        // The running server's workers find the replayed event on their next poll.
        let done = try await Self.listUntil([], in: directory) { $0.first?["state"] as? String == "completed" }
        #expect(done.first?["state"] as? String == "completed")
        let handled = (try? String(contentsOfFile: out, encoding: .utf8)) ?? ""
        #expect(handled.contains("\"order_no\":\"DL-1\""))
        #expect(handled.split(separator: "\n").count == 1)
    }

    @Test func metricsCountAnswersAndStoredEvents() async throws {
        let directory = try ScratchDirectory()
        defer { directory.remove() }
        let server = try await ServeProcess.start(config: Self.config(directory, handlers: """
              - type: jsonl
                path: \(server_events(directory))
            """), in: directory)
        defer { server.stop() }
        for _ in 0..<2 {
            _ = try await BuiltCLI.run(
                ["send", "--secret", Self.secret, "--merchant-id", Self.merchant, "--url", server.paymentURL,
                 "--order-no", "M-1"], in: directory)
        }
        _ = try await BuiltCLI.run(
            ["send", "--secret", "wrong", "--merchant-id", Self.merchant, "--url", server.paymentURL], in: directory)
        let (status, text) = try await Self.get("http://127.0.0.1:\(server.port)/metrics")
        #expect(status == 200)
        #expect(text.contains(#"trustpay_webhooks_requests_total{route="payment",status="200"} 2"#), "\(text)")
        #expect(text.contains(#"trustpay_webhooks_requests_total{route="payment",status="401"} 1"#))
        #expect(text.contains(#"trustpay_webhooks_events_total{outcome="recorded",kind="payment"} 1"#)
            || text.contains(#"trustpay_webhooks_events_total{kind="payment",outcome="recorded"} 1"#))
        let (ready, _) = try await Self.get("http://127.0.0.1:\(server.port)/readyz")
        #expect(ready == 200)
    }

    @Test func allowListAndTrustedProxyDecideWhoMayPost() async throws {
        let directory = try ScratchDirectory()
        defer { directory.remove() }
        let server = try await ServeProcess.start(config: Self.config(directory, handlers: """
              - type: jsonl
                path: \(server_events(directory))
            """, extra: """
            security:
              allow: ["192.0.2.0/24"]
              trusted_proxies: ["127.0.0.1"]
            """), in: directory)
        defer { server.stop() }
        // Straight from loopback: not in the allow-list.
        let direct = try await BuiltCLI.run(
            ["send", "--secret", Self.secret, "--merchant-id", Self.merchant, "--url", server.paymentURL,
             "--order-no", "AL-1"], in: directory)
        #expect(direct.status != 0)
        #expect(direct.stdout.contains("403"), "\(direct.output)")

        // Through the trusted proxy (loopback) on behalf of an allowed client.
        let body = try await BuiltCLI.run(
            ["sign", "--body", "--secret", Self.secret, "-"], stdin: """
                {"type":0,"merchant_id":\(Self.merchant),"order_no":"AL-2","order_amount":5,"status":3,"reason":"x"}
                """, in: directory)
        #expect(body.status == 0, "\(body.output)")
        func post(forwardedFor: String) async throws -> Int {
            var request = URLRequest(url: URL(string: server.paymentURL)!)
            request.httpMethod = "POST"
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
            request.setValue(forwardedFor, forHTTPHeaderField: "X-Forwarded-For")
            request.httpBody = Data(body.stdout.trimmingCharacters(in: .whitespacesAndNewlines).utf8)
            let (_, response) = try await URLSession.shared.data(for: request)
            return (response as? HTTPURLResponse)?.statusCode ?? 0
        }
        #expect(try await post(forwardedFor: "192.0.2.10") == 200)
        #expect(try await post(forwardedFor: "198.51.100.10") == 403)
        // A client cannot smuggle an allowed address to the left of its own.
        #expect(try await post(forwardedFor: "192.0.2.10, 198.51.100.10") == 403)
    }
}

func server_events(_ directory: ScratchDirectory) -> String { directory.url.path + "/events.jsonl" }

/// A Standard Webhooks receiver in this process: checks every request's
/// signature and remembers what it saw.
final class ForwardReceiver: Sendable {
    let server: Server
    let port: Int
    private let seen = Seen()

    final class Seen: Sendable {
        let requests = Locked<[(id: String, valid: Bool, body: String)]>([])
    }

    init(secret: String) throws {
        let signer = try StandardWebhooksSigner(secret: secret)
        let seen = seen
        var router = Router()
        router.post("/hook") { request in
            let id = request.headers["webhook-id"] ?? ""
            let timestamp = Int(request.headers["webhook-timestamp"] ?? "") ?? 0
            let valid = request.headers["webhook-signature"] == signer.signature(id: id, timestamp: timestamp, body: request.body)
            seen.requests.withLock { $0.append((id, valid, String(decoding: request.body, as: UTF8.self))) }
            return HTTPResponse(status: valid ? .noContent : .unauthorized)
        }
        var configuration = HTTPServerConfiguration(host: "127.0.0.1", port: 0)
        configuration.eventLoops = 1
        server = Server(configuration: configuration, router: router)
        port = try server.start()[0].port
    }

    func received(within limit: Duration = .seconds(15)) async throws -> [(id: String, valid: Bool, body: String)] {
        let deadline = ContinuousClock.now + limit
        while seen.requests.withLock({ $0.isEmpty }) && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(50))
        }
        return seen.requests.withLock { $0 }
    }

    func stop() { server.shutdown(drainTimeout: .seconds(1)) }
}

@Suite struct ForwardHandlerTests {
    @Test func theBinaryForwardsVerifiedEventsSignedTheStandardWebhooksWay() async throws {
        let directory = try ScratchDirectory()
        defer { directory.remove() }
        let secret = "whsec_" + Data("forwarding secret for the test".utf8).base64EncodedString()
        let receiver = try ForwardReceiver(secret: secret)
        defer { receiver.stop() }
        let server = try await ServeProcess.start(config: StandaloneServerTests.config(directory, handlers: """
              - type: forward
                url: http://127.0.0.1:\(receiver.port)/hook
                secret: {value: "\(secret)"}
            """), in: directory)
        defer { server.stop() }
        let sent = try await BuiltCLI.run(
            ["send", "--secret", StandaloneServerTests.secret, "--merchant-id", StandaloneServerTests.merchant,
             "--url", server.paymentURL, "--order-no", "FW-1", "--amount", "12.50"], in: directory)
        #expect(sent.status == 0, "\(sent.output)")
        let received = try await receiver.received()
        #expect(received.count == 1)
        #expect(received.first?.valid == true)
        #expect(received.first?.body.contains(#""order_no":"FW-1""#) == true)
        #expect(received.first?.body.contains(#""order_amount":12.50"#) == true)
    }
}
