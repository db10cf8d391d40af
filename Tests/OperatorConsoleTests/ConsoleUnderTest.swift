import ChildProcesses
import Foundation
import HTTPServer
import Inbox
import InboxTesting
import OperatorConsole
import TrustPayWebhooksTesting
import Webhooks

/// A console on a real loopback listener over a memory inbox that holds a
/// dead letter (order `DEAD-1`) and a pending event (order `OK-1`).
struct ConsoleUnderTest {
    static let token = "console-test-token-7f3a"
    let server: Server
    let base: String
    let store: MemoryInbox
    let deadID: String
    let pendingID: String

    init(reconciliation: ReconciliationWatch? = nil) async throws {
        let store = MemoryInbox()
        // Received in the past: the Overview's chart ends at the current
        // minute, and an event one second after `testEpoch` (the first use
        // of it, rounded down) could fall in the next one (the overview test
        // failed so, once in a full run).
        let now = NewInboxEvent.testEpoch
        _ = try await store.record(newEvent("DEAD-1", status: 5, at: -3), lease: .none, now: now)
        let claimed = try await store.claimDue(owner: "w", limit: 1, leaseDuration: .seconds(60), now: now)
        _ = try await store.deadLetter(id: claimed[0].id, owner: "w", error: "handler exec: exit status 1", now: now)
        let body = Array(#"{"order_no":"OK-1","card_number":"4111111111111111","cvv":"123","amount":20.00}"#.utf8)
        _ = try await store.record(newEvent("OK-1", status: 5, body: body, at: -2), lease: .none, now: now)
        self.store = store
        deadID = claimed[0].id
        pendingID = try await store.list(EventFilter(orderNo: "OK-1"))[0].id
        var router = Router()
        OperatorConsole(token: Self.token, store: store, reconciliation: reconciliation).register(on: &router)
        server = Server(configuration: HTTPServerConfiguration(host: "127.0.0.1", port: 0), router: router)
        base = "http://\(try server.start()[0])"
    }

    func stop() async {
        server.shutdown(drainTimeout: .seconds(2))
        await server.waitUntilStopped()
    }

    var bearer: String { "Authorization: Bearer \(Self.token)" }

    /// One request with curl, which shows exactly what came back (no
    /// redirect followed, no cookie kept): status, headers and body.
    func request(
        _ method: String, _ path: String, headers: [String] = [], body: String? = nil
    ) async throws -> CurlResponse {
        var command = ["curl", "-sS", "-i", "--max-time", "10", "--path-as-is"]
        command += method == "HEAD" ? ["-I"] : ["-X", method]
        for header in headers { command += ["-H", header] }
        if body != nil { command += ["--data-binary", "@-", "-H", "Content-Type: application/x-www-form-urlencoded"] }
        let result = try await ChildProcess.run(
            command + [base + path], input: body.map { .bytes(Array($0.utf8)) } ?? .null, timeout: .seconds(20))
        return CurlResponse(result.stdout, problem: result.stderr)
    }
}

struct CurlResponse: CustomStringConvertible {
    let status: Int
    let headers: [(name: String, value: String)]
    let body: String

    init(_ output: String, problem: String) {
        let parts = output.components(separatedBy: "\r\n\r\n")
        let head = parts[0].components(separatedBy: "\r\n")
        status = head.first.flatMap { Int($0.split(separator: " ").dropFirst().first ?? "") } ?? 0
        headers = head.dropFirst().compactMap { line in
            guard let colon = line.firstIndex(of: ":") else { return nil }
            return (String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
        }
        body = parts.dropFirst().joined(separator: "\r\n\r\n") + (status == 0 ? problem : "")
    }

    func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }

    var json: [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(body.utf8))) as? [String: Any] ?? [:]
    }

    var description: String { "\(status) \(headers.map { "\($0.name): \($0.value)" }) \(body.prefix(300))" }
}
