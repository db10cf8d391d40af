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

    /// `events show` tells an event's story: the failed attempt with its
    /// error, the successful one after the fix and a replay, and a
    /// conflicting copy with the signed fields it changed (card numbers
    /// masked), in text and in JSON.
    @Test func eventsShowListsAttemptsAndConflictingCopies() async throws {
        let directory = try ScratchDirectory()
        defer { directory.remove() }
        let secret = StandaloneServerTests.secret
        let merchant = StandaloneServerTests.merchant
        let fix = directory.url.path + "/fixed"
        let config = directory.url.path + "/serve.yaml"
        let server = try await ServeProcess.start(config: directory.serveConfig(secret: secret, """
            retry:
              attempts: 1
            handlers:
              - type: exec
                command: ["sh", "-c", "test -f \(fix)"]
            """), in: directory)
        defer { server.stop() }
        func send(_ extra: [String] = []) async throws {
            let sent = try await BuiltCLI.run(
                ["send", "payin.succeeded", "--order-no", "S-1", "--secret", secret, "--merchant-id", merchant,
                 "--url", server.paymentURL] + extra, in: directory)
            #expect(sent.status == 0, "\(sent.output)")
        }
        try await send()
        let dead = try await StandaloneServerTests.listUntil(["--dead"], in: directory) { $0.count == 1 }
        let id = try #require(dead.first?["id"] as? String)
        #expect(FileManager.default.createFile(atPath: fix, contents: Data()))
        let replayed = try await BuiltCLI.run(["events", "replay", id, "--config", config], in: directory)
        #expect(replayed.status == 0, "\(replayed.output)")
        _ = try await StandaloneServerTests.listUntil(["--state", "completed"], in: directory) { $0.count == 1 }
        try await send(["--field", "card_no=4111111111111111", "--field", "remark=<b>changed</b>"])
        _ = try await StandaloneServerTests.listUntil([], in: directory) { $0.first?["conflicts"] as? Int == 1 }

        let json = try await BuiltCLI.run(["events", "show", id, "--json", "--config", config], in: directory)
        #expect(json.status == 0, "\(json.output)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        let attempts = try #require(object["attempt_history"] as? [[String: Any]], "\(json.stdout)")
        #expect(attempts.map { $0["outcome"] as? String } == ["failed", "handled"], "\(attempts)")
        #expect(attempts.map { $0["number"] as? Int } == [1, 1], "a replay runs afresh as attempt 1: \(attempts)")
        #expect((attempts.first?["error"] as? String)?.hasPrefix("handler threw: ") == true, "\(attempts)")
        #expect(attempts.last?["error"] is NSNull, "\(attempts)")
        let copies = try #require(object["conflicting_copies"] as? [[String: Any]], "\(json.stdout)")
        #expect(copies.count == 1 && copies.first?["signature"] as? String == "verified", "\(copies)")
        let differences = copies.first?["differences"] as? [[String: Any]] ?? []
        #expect(differences.map { $0["field"] as? String } == ["card_no", "remark"], "\(differences)")
        #expect(differences.first?["copy"] as? String == "************1111" && differences.first?["stored"] is NSNull,
                "\(differences)")
        #expect(!json.stdout.contains("4111111111111111"), "card numbers are masked: \(json.stdout)")

        let text = try await BuiltCLI.run(["events", "show", id, "--config", config], in: directory)
        #expect(text.status == 0, "\(text.output)")
        let lines = text.stdout.split(separator: "\n").map(String.init)
        #expect(lines.contains { $0.contains("1  failed") && $0.contains("handler threw: ") }, "\(text.stdout)")
        #expect(lines.contains { $0.hasSuffix("1  handled") || $0.contains("1  handled ") }, "\(text.stdout)")
        #expect(lines.contains { $0.contains("signature verified") }, "\(text.stdout)")
        #expect(lines.contains("    card_no: stored (absent), copy \"************1111\""), "\(text.stdout)")
        #expect(lines.contains("    remark: stored (absent), copy \"<b>changed</b>\""), "\(text.stdout)")
        #expect(lines.last?.hasPrefix("body:") == true, "the body comes last, as before: \(text.stdout)")
        #expect(!text.stdout.contains("4111111111111111"), "card numbers are masked: \(text.stdout)")
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
