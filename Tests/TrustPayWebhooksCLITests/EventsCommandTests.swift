import Foundation
import Testing

/// `events` against the built binary: it never creates a database, and
/// `list` tells payins from payouts and held events from pending ones.
@Suite(.serialized) struct EventsCommandTests {
    /// Made to fail by the old behaviour: `events list` opened (and so
    /// created) data/trustpay-webhooks.sqlite and printed "no events".
    @Test func eventsListInAnEmptyFolderIsAnErrorAndCreatesNoDatabase() async throws {
        let directory = try ScratchDirectory()
        defer { directory.remove() }
        let result = try await BuiltCLI.run(["events", "list"], in: directory)
        #expect(result.status != 0, "\(result.output)")
        #expect(result.stderr.contains("data/trustpay-webhooks.sqlite"), "\(result.output)")
        #expect(result.stderr.contains("embedded defaults"), "\(result.output)")
        #expect(!FileManager.default.fileExists(atPath: directory.url.appendingPathComponent("data").path))
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.url.path).isEmpty)
    }

    @Test func aMissingSQLiteFileIsNamedWithTheConfigurationItCameFrom() async throws {
        let directory = try ScratchDirectory()
        defer { directory.remove() }
        let config = directory.file("ops.yaml", contents: """
            store:
              kind: sqlite
              sqlite:
                path: nowhere/inbox.sqlite
            merchants:
              - id: \(ScratchDirectory.merchantID)
                secrets: [{value: "x"}]
            """)
        for command in [["events", "list", "--json"], ["events", "purge", "--yes"], ["events", "retry-dead"]] {
            let result = try await BuiltCLI.run(command + ["--config", config.path], in: directory)
            #expect(result.status != 0, "\(command): \(result.output)")
            #expect(result.stderr.contains("nowhere/inbox.sqlite") && result.stderr.contains(config.path),
                    "\(command): \(result.output)")
            #expect(result.stdout.isEmpty, "\(command): \(result.output)")
        }
        #expect(!FileManager.default.fileExists(atPath: directory.url.appendingPathComponent("nowhere").path))
    }

    /// Payments show payin/payout, and an event waiting behind an earlier
    /// unfinished event of its order shows as held. The handler always
    /// fails and retries an hour later, so the first event of order H-1
    /// stays unfinished and its refund waits behind it.
    @Test func eventsListShowsOrderTypesAndHeldEvents() async throws {
        let directory = try ScratchDirectory()
        defer { directory.remove() }
        let secret = StandaloneServerTests.secret
        let merchant = StandaloneServerTests.merchant
        let server = try await ServeProcess.start(config: directory.serveConfig(secret: secret, """
            retry:
              attempts: 5
              initial_delay: 1h
              max_delay: 1h
            handlers:
              - type: exec
                command: ["sh", "-c", "exit 1"]
            """), in: directory)
        defer { server.stop() }
        for arguments in [["payin.succeeded", "--order-no", "H-1"], ["payin.refunded", "--order-no", "H-1"],
                          ["payout.paid", "--order-no", "P-1"]] {
            let sent = try await BuiltCLI.run(
                ["send"] + arguments + ["--secret", secret, "--merchant-id", merchant, "--url", server.paymentURL],
                in: directory)
            #expect(sent.status == 0, "\(arguments): \(sent.output)")
        }
        // Both first events have had their one failed attempt.
        let all = try await StandaloneServerTests.listUntil([], in: directory) { events in
            events.filter { $0["state"] as? String == "waiting-retry" }.count == 2
        }
        #expect(all.count == 3)
        let first = all.first { $0["order_no"] as? String == "H-1" && $0["status"] as? Int == 5 }
        let refund = all.first { $0["order_no"] as? String == "H-1" && $0["status"] as? Int == 7 }
        let payout = all.first { $0["order_no"] as? String == "P-1" }
        #expect(first?["state"] as? String == "waiting-retry", "\(all)")
        #expect(refund?["state"] as? String == "held", "\(all)")
        #expect(refund?["held_behind"] as? String == first?["id"] as? String, "\(all)")
        #expect(payout?["state"] as? String == "waiting-retry", "\(all)")
        #expect(first?["order_type"] as? String == "payin" && refund?["order_type"] as? String == "payin", "\(all)")
        #expect(payout?["order_type"] as? String == "payout", "\(all)")

        let held = try await StandaloneServerTests.listUntil(["--state", "held"], in: directory) { _ in true }
        #expect(held.map { $0["id"] as? String } == [refund?["id"] as? String], "\(held)")
        let pending = try await StandaloneServerTests.listUntil(["--state", "pending"], in: directory) { _ in true }
        #expect(pending.isEmpty, "\(pending)")
        let shown = try await BuiltCLI.run(
            ["events", "show", refund?["id"] as? String ?? "-", "--json", "--config", directory.url.path + "/serve.yaml"],
            in: directory)
        #expect(shown.status == 0, "\(shown.output)")
        let object = try JSONSerialization.jsonObject(with: Data(shown.stdout.utf8)) as? [String: Any]
        #expect(object?["state"] as? String == "held" && object?["held_behind"] as? String == first?["id"] as? String,
                "\(shown.output)")

        let table = try await BuiltCLI.run(
            ["events", "list", "--config", directory.url.path + "/serve.yaml"], in: directory)
        #expect(table.status == 0, "\(table.output)")
        let lines = table.stdout.split(separator: "\n")
        #expect(lines.count == 4, "\(table.stdout)")
        #expect(lines.contains { $0.contains("H-1") && $0.contains("payin") && $0.contains(" held ") }, "\(table.stdout)")
        #expect(lines.contains { $0.contains("P-1") && $0.contains("payout") }, "\(table.stdout)")
    }

    @Test func purgeAndRetryDeadRefuseStateHeld() async throws {
        let directory = try ScratchDirectory()
        defer { directory.remove() }
        for command in [["events", "purge", "--state", "held"], ["events", "retry-dead", "--state", "held"]] {
            let result = try await BuiltCLI.run(command, in: directory)
            #expect(result.status == 64, "\(command): \(result.output)")
            #expect(result.stderr.contains("held"), "\(command): \(result.output)")
        }
        #expect(!FileManager.default.fileExists(atPath: directory.url.appendingPathComponent("data").path))
    }
}
