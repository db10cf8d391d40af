import Foundation
import Testing

/// `send` against the built binary and a SQLite-store `serve`: the same
/// order is the same callback, named triggers, quiet output, and flags a
/// callback cannot carry refused.
@Suite(.serialized) struct SendCommandTests {
    static let secret = StandaloneServerTests.secret
    static let merchant = StandaloneServerTests.merchant

    /// `serve` on SQLite (inbox.sqlite in `directory`) with a card route and
    /// the jsonl handler; `extra` is appended to the configuration.
    static func start(in directory: ScratchDirectory, extra: String = "") async throws -> ServeProcess {
        try await ServeProcess.start(config: StandaloneServerTests.config(directory, handlers: """
              - type: jsonl
                path: \(server_events(directory))
            """, extra: """
            routes:
              cards:
                - path: /trustpay/card
                  merchant: \(merchant)
            \(extra)
            """), in: directory)
    }

    static func send(_ arguments: [String], to server: ServeProcess, path: String = "/trustpay/payment",
                     in directory: ScratchDirectory) async throws -> CommandResult {
        try await BuiltCLI.run(
            ["send"] + arguments
                + ["--secret", secret, "--merchant-id", merchant, "--url", "http://127.0.0.1:\(server.port)\(path)"],
            in: directory)
    }

    static func list(_ arguments: [String] = [], in directory: ScratchDirectory) async throws -> [[String: Any]] {
        let result = try await BuiltCLI.run(
            ["events", "list", "--json", "--config", directory.url.path + "/serve.yaml"] + arguments, in: directory)
        #expect(result.status == 0, "\(result.output)")
        return (try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [[String: Any]]) ?? []
    }

    /// Made to fail by the old `send`, whose pay_time was the time of each
    /// run: the second run was a conflict (once the second had changed).
    @Test func sendingTheSameOrderNumberTwiceIsOneEventAndADuplicateNotAConflict() async throws {
        let directory = try ScratchDirectory()
        defer { directory.remove() }
        let server = try await Self.start(in: directory)
        defer { server.stop() }
        let first = try await Self.send(["--order-no", "SAME-1"], to: server, in: directory)
        #expect(first.status == 0, "\(first.output)")
        // A second apart at least, so that a pay_time of "now" would differ.
        try await Task.sleep(for: .milliseconds(1100))
        let second = try await Self.send(["--order-no", "SAME-1"], to: server, in: directory)
        #expect(second.status == 0, "\(second.output)")

        let events = try await Self.list(in: directory)
        #expect(events.count == 1)
        #expect(events.first?["order_no"] as? String == "SAME-1")
        #expect(events.first?["conflicts"] as? Int == 0)
        let (_, metrics) = try await StandaloneServerTests.get("http://127.0.0.1:\(server.port)/metrics")
        #expect(metrics.contains(#"trustpay_webhooks_events_total{outcome="duplicate",kind="payment"} 1"#)
            || metrics.contains(#"trustpay_webhooks_events_total{kind="payment",outcome="duplicate"} 1"#), "\(metrics)")
        #expect(!metrics.contains(#"outcome="conflict""#) || metrics.contains(#"outcome="conflict",kind="payment"} 0"#)
            || metrics.contains(#"kind="payment",outcome="conflict"} 0"#), "\(metrics)")
    }

    @Test func payTimeIsSentAsGivenAndAMalformedOneIsRefused() async throws {
        let directory = try ScratchDirectory()
        defer { directory.remove() }
        let server = try await Self.start(in: directory)
        defer { server.stop() }
        let sent = try await Self.send(["--order-no", "PT-1", "--pay-time", "2025-08-05 16:43:55", "--verbose"],
                                       to: server, in: directory)
        #expect(sent.status == 0, "\(sent.output)")
        #expect(sent.stdout.contains(#""pay_time":"2025-08-05 16:43:55""#), "\(sent.output)")
        for bad in ["2025-08-05T16:43:55", "2025-02-30 00:00:00", "2025-08-05 16:43"] {
            let refused = try await Self.send(["--pay-time", bad], to: server, in: directory)
            #expect(refused.status != 0 && refused.stderr.contains("--pay-time"), "\(bad): \(refused.output)")
        }
    }

    /// Each trigger is posted as the status, order type and card type it
    /// names, as the server stored it.
    @Test func namedTriggersPostTheirStatusAndType() async throws {
        let directory = try ScratchDirectory()
        defer { directory.remove() }
        let server = try await Self.start(in: directory)
        defer { server.stop() }
        let cases: [(trigger: String, order: String, status: Int, type: String, kind: String)] = [
            ("payin.succeeded", "T-1", 5, "payin", "payment"),
            ("payin.refunded", "T-2", 7, "payin", "payment"),
            ("payin.partially_refunded", "T-3", 8, "payin", "payment"),
            ("payout.paid", "T-4", 2, "payout", "payment"),
            ("payout.failed", "T-5", 3, "payout", "payment"),
            ("card.recharged", "T-6", 2, "CARD_CHARGE", "card"),
        ]
        for item in cases {
            let path = item.kind == "card" ? "/trustpay/card" : "/trustpay/payment"
            let sent = try await Self.send([item.trigger, "--order-no", item.order], to: server, path: path,
                                           in: directory)
            #expect(sent.status == 0, "\(item.trigger): \(sent.output)")
        }
        let events = try await Self.list(in: directory)
        #expect(events.count == cases.count)
        for item in cases {
            let event = events.first { $0["order_no"] as? String == item.order }
            #expect(event?["status"] as? Int == item.status, "\(item.trigger): \(String(describing: event))")
            #expect(event?["order_type"] as? String == item.type, "\(item.trigger): \(String(describing: event))")
            #expect(event?["kind"] as? String == item.kind, "\(item.trigger): \(String(describing: event))")
        }
    }

    @Test func aRefundTriggerCarriesRefundFieldsAndNoPaymentFields() async throws {
        let directory = try ScratchDirectory()
        let result = try await BuiltCLI.run(
            ["send", "payin.partially_refunded", "--secret", "s", "--merchant-id", "1", "--order-no", "R-1",
             "--amount", "20.00", "--verbose", "--url", "http://127.0.0.1:9/unused", "--timeout", "1"],
            in: directory)
        defer { directory.remove() }
        #expect(result.stdout.contains(#""status":8"#), "\(result.output)")
        #expect(result.stdout.contains(#""merchant_refund_no":["RF-R-1"]"#), "\(result.output)")
        #expect(result.stdout.contains(#""refund_amount":10"#), "\(result.output)")
        for absent in ["paid_amount", "pay_time", "\"fee\""] {
            #expect(!result.stdout.contains(absent), "\(absent): \(result.output)")
        }
    }

    @Test func anUnknownTriggerIsRefusedListingTheKnownOnes() async throws {
        let directory = try ScratchDirectory()
        defer { directory.remove() }
        let result = try await BuiltCLI.run(["send", "payin.succeded"], in: directory)
        #expect(result.status != 0)
        #expect(result.stderr.contains("unknown trigger 'payin.succeded'"), "\(result.output)")
        #expect(result.stderr.contains("payin.succeeded") && result.stderr.contains("card.opened"), "\(result.output)")
    }

    @Test func sendHelpListsTheTriggers() async throws {
        let directory = try ScratchDirectory()
        defer { directory.remove() }
        let result = try await BuiltCLI.run(["send", "--help"], in: directory)
        #expect(result.status == 0)
        for name in ["payin.succeeded", "payin.refunded", "payin.partially_refunded", "payin.refunding",
                     "payout.paid", "payout.failed", "card.opened", "card.recharged", "--pay-time", "--verbose"] {
            #expect(result.stdout.contains(name), "\(name): \(result.stdout)")
        }
    }

    /// Contradictions and flags the callback cannot carry: refused with a
    /// reason by validation (exit 64, before anything is posted).
    @Test(arguments: [
        (["payin.succeeded", "--status", "3"], "contradicts"),
        (["payin.succeeded", "--kind", "card"], "contradicts"),
        (["payout.paid", "--type", "payin"], "contradicts"),
        (["card.opened", "--card-type", "CARD_CHARGE"], "contradicts"),
        (["--status", "7", "--fee", "0.60"], "no fee"),
        (["payin.refunded", "--fee", "0.60"], "no fee"),
        (["--status", "9", "--pay-time", "2025-01-01 00:00:00"], "no pay_time"),
        (["--status", "5", "--refund-no", "RF-1"], "--refund-no"),
        (["payout.paid", "--refund-no", "RF-1"], "--refund-no"),
        (["--status", "5", "--refund-amount", "1.00"], "--refund-amount"),
        (["--status", "3", "--fee", "0.60"], "only order_amount"),
        (["--kind", "payment", "--card-type", "CARD_CHARGE"], "--card-type"),
        (["--card-id", "7"], "--card-id"),
        (["--kind", "card", "--refund-no", "RF-1"], "--refund-no"),
        (["card.opened", "--type", "payout"], "--type"),
    ])
    func meaninglessOrContradictingFlagsAreRefusedWithAReason(_ arguments: [String], _ reason: String) async throws {
        let directory = try ScratchDirectory()
        defer { directory.remove() }
        let result = try await BuiltCLI.run(
            ["send"] + arguments + ["--secret", "s", "--merchant-id", "1", "--url", "http://127.0.0.1:9/unused"],
            in: directory)
        #expect(result.status == 64, "\(arguments): \(result.output)")
        #expect(result.stderr.contains(reason), "\(arguments): \(result.output)")
        #expect(result.stdout.isEmpty, "\(arguments): \(result.output)")
    }

    /// By default one line per answer; the request only with --verbose.
    @Test func sendPrintsOneLinePerAnswerAndTheRequestOnlyWhenVerbose() async throws {
        let directory = try ScratchDirectory()
        defer { directory.remove() }
        let server = try await Self.start(in: directory)
        defer { server.stop() }
        let quiet = try await Self.send(["--order-no", "Q-1", "--repeat", "2"], to: server, in: directory)
        #expect(quiet.status == 0, "\(quiet.output)")
        let lines = quiet.stdout.split(separator: "\n")
        #expect(lines.count == 3, "\(quiet.stdout)")
        #expect(lines.filter { $0.hasPrefix("[") && $0.contains("/2] 200") }.count == 2, "\(quiet.stdout)")
        #expect(lines.last == "2 of 2 answered 200", "\(quiet.stdout)")
        #expect(!quiet.stdout.contains("POST") && !quiet.stdout.contains("order_amount"), "\(quiet.stdout)")

        let verbose = try await Self.send(["--order-no", "Q-1", "--verbose"], to: server, in: directory)
        #expect(verbose.status == 0, "\(verbose.output)")
        #expect(verbose.stdout.contains("POST http://127.0.0.1:\(server.port)/trustpay/payment"), "\(verbose.stdout)")
        #expect(verbose.stdout.contains(#""order_no":"Q-1""#), "\(verbose.stdout)")
        #expect(verbose.stdout.contains("[1/1] 200"), "\(verbose.stdout)")
    }
}
