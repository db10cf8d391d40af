import Foundation
import Inbox
import SQLiteInbox
import Testing
import TestSupport
import TrustPay
import TrustPaySimulator
import Webhooks

/// `reconcile --order-no` against the built binary, a SQLite inbox and the
/// TrustPay simulator's Order Query API; `expect` against the binary.
@Suite(.serialized) struct ReconcileCommandTests {
    static let secret = "reconcile-secret"
    static let apiKey = "reconcile-api-key"

    /// A configuration whose merchant reaches the API at `baseURL` with `key`.
    static func config(_ directory: ScratchDirectory, baseURL: String, key: String = apiKey) -> URL {
        directory.file("ops-\(key).yaml", contents: """
            store:
              kind: sqlite
              sqlite:
                path: \(directory.url.path)/inbox.sqlite
            merchants:
              - id: \(ScratchDirectory.merchantID)
                secrets: [{value: "\(secret)"}]
                api:
                  base_url: \(baseURL)
                  key: {value: "\(key)"}
            """)
    }

    static func events(_ directory: ScratchDirectory) async throws -> [InboxEvent] {
        let inbox = try await SQLiteInbox.open(path: directory.url.appendingPathComponent("inbox.sqlite").path)
        let events = try await inbox.list(EventFilter())
        await inbox.close()
        return events
    }

    @Test func reconcileRecordsANewStatusOnceAndReportsUnknownOrdersAndBadKeys() async throws {
        let directory = try ScratchDirectory()
        defer { directory.remove() }
        let simulator = try TrustPaySimulator(
            scenario: SimulatorScenario(
                merchants: [SimulatedMerchant(id: ScratchDirectory.merchantID, secret: Self.secret, apiKey: Self.apiKey)],
                amountsAs: .strings))
        // The payin succeeded at TrustPay; its callback never reached the merchant.
        try simulator.add(
            ScriptedOrder(
                merchantID: ScratchDirectory.merchantID, orderNo: "R-1", orderAmount: Amount("106")!,
                statuses: [ScriptedStatus(.pending), ScriptedStatus(.unliquidated, fee: Amount("6")!)]))
        let baseURL = "http://127.0.0.1:\(try simulator.start())"
        await (try await SQLiteInbox.open(path: directory.url.appendingPathComponent("inbox.sqlite").path)).close()
        let config = Self.config(directory, baseURL: baseURL).path

        let found = try await BuiltCLI.run(["reconcile", "--order-no", "R-1", "--json", "--config", config], in: directory)
        #expect(found.status == 0, "\(found.output)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(found.stdout.utf8)) as? [String: Any])
        #expect(report["recorded"] as? Bool == true, "\(found.output)")
        #expect((report["answer"] as? [String: Any])?["status"] as? Int == 5, "\(found.output)")
        let event = try #require(report["event"] as? [String: Any], "\(found.output)")
        #expect(event["source"] as? String == "order-query" && event["status"] as? Int == 5, "\(found.output)")

        let again = try await BuiltCLI.run(["reconcile", "--order-no", "R-1", "--config", config], in: directory)
        #expect(again.status == 0 && again.stdout.contains("already recorded"), "\(again.output)")

        let unknown = try await BuiltCLI.run(["reconcile", "--order-no", "NO-SUCH", "--config", config], in: directory)
        #expect(unknown.status == 1 && unknown.stderr.contains("880002") && unknown.stderr.contains("nothing recorded"),
                "\(unknown.output)")
        let badKey = Self.config(directory, baseURL: baseURL, key: "not-the-key").path
        let refused = try await BuiltCLI.run(["reconcile", "--order-no", "R-1", "--json", "--config", badKey], in: directory)
        #expect(refused.status == 1, "\(refused.output)")
        let refusal = try #require(try JSONSerialization.jsonObject(with: Data(refused.stdout.utf8)) as? [String: Any])
        #expect(refusal["code"] as? Int == 880011 && refusal["recorded"] as? Bool == false, "\(refused.output)")
        #expect((refusal["error"] as? String)?.contains("unauthorized") == true, "\(refused.output)")
        #expect(!refused.output.contains("not-the-key"), "the API key is never printed")
        let codes = simulator.queries.map { $0.code.map { String($0.code) } ?? "-" }
        #expect(codes == ["880001", "880001", "880002", "880011"], "signed with the merchant's secret: \(codes)")
        #expect((report["answer"] as? [String: Any])?["paid_amount"] as? String == "106", "strings read exactly: \(found.output)")

        let stored = try await Self.events(directory)
        #expect(stored.map { "\($0.orderNo) \($0.status) \($0.source)" } == ["R-1 5 order-query"], "one event, from the first query")
        let listed = try await BuiltCLI.run(["events", "list", "--json", "--config", config], in: directory)
        #expect(listed.stdout.contains(#""source":"order-query""#), "\(listed.output)")
        await simulator.stop()
    }

    @Test func expectRegistersAnOrderOnce() async throws {
        let directory = try ScratchDirectory()
        defer { directory.remove() }
        let path = directory.url.appendingPathComponent("inbox.sqlite").path
        await (try await SQLiteInbox.open(path: path)).close()
        let config = Self.config(directory, baseURL: "http://127.0.0.1:9").path
        let first = try await BuiltCLI.run(["expect", "--order-no", "E-1", "--type", "payout", "--config", config], in: directory)
        #expect(first.status == 0 && first.stdout.contains("now expected"), "\(first.output)")
        let again = try await BuiltCLI.run(["expect", "--order-no", "E-1", "--type", "payout", "--config", config], in: directory)
        #expect(again.status == 0 && again.stdout.contains("already expected"), "\(again.output)")
        let stranger = try await BuiltCLI.run(["expect", "--order-no", "E-2", "--merchant", "5", "--config", config], in: directory)
        #expect(stranger.status == 1 && stranger.stderr.contains("merchant 5 is not configured"), "\(stranger.output)")

        let inbox = try await SQLiteInbox.open(path: path)
        let now = Date()
        let waiting = try await inbox.reconciliationCandidates(
            finalStatuses: [2], quietSince: now.addingTimeInterval(60), notBefore: now.addingTimeInterval(-60), limit: 10)
        await inbox.close()
        #expect(waiting.map { "\($0.orderNo) \($0.type) \($0.merchantID)" } == ["E-1 payout \(ScratchDirectory.merchantID)"])
    }
}

/// `serve` says at start which merchants it does not reconcile.
@Suite struct ReconciliationStartLogTests {
    @Test func serveNamesTheMerchantsWithoutAnAPIKey() async throws {
        let directory = try ScratchDirectory()
        defer { directory.remove() }
        let server = try await ServeProcess.start(
            config: directory.serveConfig(secret: ReconcileCommandTests.secret), in: directory)
        defer { server.stop() }
        let expected = "reconciliation off for merchant \(ScratchDirectory.merchantID): merchants[0].api.key is not set"
        var text = ""
        let deadline = ContinuousClock.now + .seconds(20)
        while ContinuousClock.now < deadline {
            text = (try? String(contentsOf: server.log, encoding: .utf8)) ?? ""
            if text.contains("no merchant has an API key") { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(text.contains(expected), "\(text)")
        #expect(text.contains("reconciliation off: no merchant has an API key"), "\(text)")
    }
}
