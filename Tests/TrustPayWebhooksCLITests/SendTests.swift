import Foundation
import Testing

/// `send` posting to a real `serve` subprocess (memory store, jsonl handler).
@Suite(.serialized) struct SendTests {
    static let secret = "send-test-secret"

    @Test func sendDeliversAnEventThatTheServerHandsToTheJSONLinesHandler() async throws {
        let directory = try ScratchDirectory()
        defer { directory.remove() }
        let server = try await ServeProcess.start(secret: Self.secret, in: directory)
        defer { server.stop() }
        let config = directory.url.appendingPathComponent("serve.yaml").path
        let result = try await BuiltCLI.run(
            ["send", "--config", config, "--url", server.paymentURL, "--order-no", "CLI-1", "--amount", "20.00",
             "--fee", "0.60", "--verbose"],
            in: directory)
        #expect(result.status == 0, "\(result.output)")
        #expect(result.stdout.contains("[1/1] 200"))
        #expect(result.stdout.contains(#""order_amount":20.00"#))
        #expect(!result.output.contains(Self.secret))
        let lines = try await server.eventLines(atLeast: 1)
        #expect(lines.count == 1)
        #expect(lines.first?.contains("CLI-1") == true)
    }

    @Test func repeatingTheSameCallbackThreeTimesRecordsOneEvent() async throws {
        let directory = try ScratchDirectory()
        defer { directory.remove() }
        let server = try await ServeProcess.start(secret: Self.secret, in: directory)
        defer { server.stop() }
        let result = try await BuiltCLI.run(
            ["send", "--secret", Self.secret, "--merchant-id", String(ScratchDirectory.merchantID),
             "--url", server.paymentURL, "--order-no", "CLI-2", "--repeat", "3", "--concurrency", "2"],
            in: directory)
        #expect(result.status == 0, "\(result.output)")
        #expect(result.stdout.contains("3 of 3 answered 200"))
        // Wait for the server to have finished everything that could write a
        // second line: all three answered, two of them recorded as duplicates,
        // and the one handler attempt completed. Only then count the lines.
        // (Made to fail by storing duplicates as new events: 3 lines.)
        let metricsURL = "http://127.0.0.1:\(server.port)/metrics"
        let deadline = ContinuousClock.now + .seconds(30)
        var metrics = ""
        while ContinuousClock.now < deadline {
            metrics = try await StandaloneServerTests.get(metricsURL).1
            if metrics.contains(#"trustpay_webhooks_handler_attempts_total{result="completed"} 1"#),
                metrics.contains(#"outcome="duplicate""#) { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(metrics.contains(#"trustpay_webhooks_requests_total{route="payment",status="200"} 3"#), "\(metrics)")
        #expect(metrics.contains(#"trustpay_webhooks_events_total{outcome="duplicate",kind="payment"} 2"#)
            || metrics.contains(#"trustpay_webhooks_events_total{kind="payment",outcome="duplicate"} 2"#), "\(metrics)")
        #expect(metrics.contains(#"trustpay_webhooks_handler_attempts_total{result="completed"} 1"#), "\(metrics)")
        let lines = try await server.eventLines(atLeast: 1)
        #expect(lines.count == 1)
    }

    /// `--form` signs as a merchant configured for one number form expects:
    /// only the form the server accepts gets a `200`.
    @Test func sendSignsInTheNumberFormAskedFor() async throws {
        let directory = try ScratchDirectory()
        defer { directory.remove() }
        let events = directory.url.appendingPathComponent("events.jsonl")
        let config = ScratchDirectory.config(secret: Self.secret, events: events, numberForms: ["shortest"])
        let server = try await ServeProcess.start(config: config, in: directory)
        defer { server.stop() }
        func send(_ extra: [String]) async throws -> CommandResult {
            try await BuiltCLI.run(
                ["send", "--secret", Self.secret, "--merchant-id", String(ScratchDirectory.merchantID),
                 "--url", server.paymentURL, "--amount", "20.00", "--fee", "0.50"] + extra,
                in: directory)
        }
        let shortest = try await send(["--form", "shortest", "--verbose"])
        #expect(shortest.status == 0 && shortest.stdout.contains("[1/1] 200"), "\(shortest.output)")
        #expect(shortest.stdout.contains(#""order_amount":20.00"#), "the body keeps the amount as typed")
        let transmitted = try await send([])
        #expect(transmitted.status != 0 && transmitted.stdout.contains("[1/1] 401"), "\(transmitted.output)")
    }

    @Test func aServerWithAnotherSecretMakesSendExitNonZero() async throws {
        let directory = try ScratchDirectory()
        defer { directory.remove() }
        let server = try await ServeProcess.start(secret: Self.secret, in: directory)
        defer { server.stop() }
        let result = try await BuiltCLI.run(
            ["send", "--secret", "not-the-servers-secret", "--merchant-id", String(ScratchDirectory.merchantID),
             "--url", server.paymentURL, "--kind", "payment", "--status", "7", "--refund-no", "RF-9"],
            in: directory)
        #expect(result.status != 0, "\(result.output)")
        #expect(!result.stdout.contains("[1/1] 200"))
        #expect(!result.output.contains("not-the-servers-secret"))
    }
}

@Suite struct CommandLineTests {
    @Test func invalidConfigurationExitsTwoNamingTheKey() async throws {
        let directory = try ScratchDirectory()
        defer { directory.remove() }
        let bad = directory.file("bad.yaml", contents: "server:\n  port: eighty\n")
        let result = try await BuiltCLI.run(["serve", "--config", bad.path], in: directory)
        #expect(result.status == 2, "\(result.output)")
        #expect(result.stderr.contains("server.port"))
    }

    @Test func eventsListOnAMemoryStoreIsAnEmptyJSONArray() async throws {
        let directory = try ScratchDirectory()
        defer { directory.remove() }
        let events = directory.url.appendingPathComponent("events.jsonl")
        let config = directory.file("config.yaml", contents: ScratchDirectory.config(secret: "x", events: events))
        let result = try await BuiltCLI.run(["events", "list", "--json", "--config", config.path], in: directory)
        #expect(result.status == 0, "\(result.output)")
        #expect(result.stdout == "[]\n")
    }

    @Test func purgeWithoutAFilterOrYesIsRefused() async throws {
        let directory = try ScratchDirectory()
        defer { directory.remove() }
        let result = try await BuiltCLI.run(["events", "purge"], in: directory)
        #expect(result.status != 0)
        #expect(result.stderr.contains("--yes"))
    }

    @Test(arguments: [["send", "--help"], ["events", "--help"], ["verify", "--help"]])
    func helpDescribesEachCommand(_ arguments: [String]) async throws {
        let directory = try ScratchDirectory()
        defer { directory.remove() }
        let result = try await BuiltCLI.run(arguments, in: directory)
        #expect(result.status == 0)
        #expect(result.stdout.contains("OVERVIEW:"))
    }
}
