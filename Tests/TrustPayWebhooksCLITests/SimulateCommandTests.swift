import AsyncHTTPClient
import ChildProcesses
import Foundation
import Testing
import TestSupport
import TrustPay
import TrustPayAPI

#if canImport(Glibc)
import Glibc
#endif

/// `trustpay-webhooks simulate`: the binary playing TrustPay against the binary serving.
@Suite struct SimulateCommandTests {
    static let secret = "sim-secret"
    static let apiKey = "sim-api-key"

    static func scenario(notifyURL: String?, orders: String) -> String {
        """
        merchants:
          - id: \(ScratchDirectory.merchantID)
            secret: \(secret)
            api_key: \(apiKey)
        \(notifyURL.map { "notify_url: \($0)" } ?? "")
        retry_schedule: [0, 0.05]
        orders:
        \(orders)
        """
    }

    @Test func simulateDeliversScriptedCallbacksToServeWhichRecordsEachStatusOnce() async throws {
        let directory = try ScratchDirectory()
        defer { directory.remove() }
        let serve = try await ServeProcess.start(secret: Self.secret, in: directory)
        defer { serve.stop() }
        // Unquoted YAML amounts must stay exact: 6.50 is not 6.5 in the body.
        let orders = """
              - merchant_id: \(ScratchDirectory.merchantID)
                order_no: ORD-SIM-1
                order_amount: 106.00
                statuses:
                  - {status: 5, fee: 6.50, copies: 2}
                  - {status: 7, refund_nos: [RF-1]}
            """
        let config = directory.file("sim.yaml", contents: Self.scenario(notifyURL: serve.paymentURL, orders: orders))
        let result = try await BuiltCLI.run(
            ["simulate", "--config", config.path, "--exit-after-delivery"], in: directory)
        #expect(result.status == 0, "\(result.output)")
        #expect(result.stdout.hasPrefix("listening on http://127.0.0.1:"), "\(result.output)")
        #expect(result.stdout.contains("delivered ORD-SIM-1 status 5 (unliquidated) (copy 1) after 1 attempt(s): 200"))
        #expect(result.stdout.contains("delivered ORD-SIM-1 status 5 (unliquidated) (copy 2)"))
        #expect(result.stdout.contains("delivered ORD-SIM-1 status 7 (refunded) (copy 1)"))
        #expect(result.stdout.contains("deliveries done: 3 delivered, 0 given up"), "\(result.output)")

        let lines = try await serve.eventLines(atLeast: 2)
        #expect(lines.count == 2, "the repeat is a duplicate: \(lines)")
        #expect(lines.first?.contains(#""fee":6.50"#) == true, "\(lines)")
    }

    @Test func withNobodyListeningTheSimulatorGivesUpAfterItsSchedule() async throws {
        let directory = try ScratchDirectory()
        defer { directory.remove() }
        let orders = directory.file("orders.yaml", contents: """
            - {merchant_id: 1, order_no: LOST-1, type: payout, order_amount: "20", statuses: [{status: 2}]}
            """)
        let result = try await BuiltCLI.run(
            ["simulate", "--merchant", "1", "--secret", "s", "--api-key", "k", "--orders", orders.path,
             "--notify-url", "http://127.0.0.1:1/trustpay/payment", "--retry-schedule", "0,0.05,0.05",
             "--exit-after-delivery"], in: directory)
        #expect(result.status == 0, "\(result.output)")
        #expect(result.stdout.contains("gave up on LOST-1 status 2 (paid) (copy 1) after 3 attempt(s): no answer, no answer, no answer"),
                "\(result.output)")
        #expect(result.stdout.contains("deliveries done: 0 delivered, 1 given up"))
    }

    @Test func aMisspeltScenarioKeyIsRefusedWithItsName() async throws {
        let directory = try ScratchDirectory()
        defer { directory.remove() }
        let config = directory.file("sim.yaml", contents: """
            merchants: [{id: 1, secret: s, apikey: k}]
            """)
        let result = try await BuiltCLI.run(["simulate", "--config", config.path], in: directory)
        #expect(result.status == 1, "\(result.output)")
        #expect(result.stderr.contains("unknown key \"apikey\""), "\(result.output)")
        let neither = try await BuiltCLI.run(["simulate", "--merchant", "1"], in: directory)
        #expect(neither.status == 64 && neither.stderr.contains("--api-key"), "\(neither.output)")
    }

    @Test func theRunningSimulatorAnswersOrderQueriesUntilSIGTERM() async throws {
        let directory = try ScratchDirectory()
        defer { directory.remove() }
        let orders = """
              - merchant_id: \(ScratchDirectory.merchantID)
                order_no: ORD-Q-1
                order_amount: "50"
                statuses: [{status: 5, fee: "2.5", deliver: false}]
            """
        let config = directory.file("sim.yaml", contents: Self.scenario(notifyURL: nil, orders: orders))
        let output = directory.url.appendingPathComponent("simulate.out")
        let child = try ChildProcess.spawn(
            [try BuiltCLI.path(), "simulate", "--config", config.path, "--amounts-as", "strings"],
            output: .file(output.path), errors: .file(output.path + ".err"), directory: directory.url.path)
        defer { child.signal(SIGKILL) }
        var baseURL: String?
        for _ in 0..<600 where baseURL == nil {
            let text = (try? String(contentsOf: output, encoding: .utf8)) ?? ""
            if text.contains("deliveries done"), let line = text.split(separator: "\n").first,
               line.hasPrefix("listening on ")
            {
                baseURL = String(line.dropFirst("listening on ".count))
            } else {
                try await Task.sleep(for: .milliseconds(50))
            }
        }
        let url = try #require(baseURL)

        let http = HTTPClient(
            eventLoopGroupProvider: .singleton, configuration: TrustPayAPIClient.recommendedHTTPClientConfiguration)
        let good = try TrustPayAPIClient(
            httpClient: http,
            merchants: [ScratchDirectory.merchantID: .init(baseURL: url, apiKey: Self.apiKey, secret: Self.secret)])
        let bad = try TrustPayAPIClient(
            httpClient: http,
            merchants: [ScratchDirectory.merchantID: .init(baseURL: url, apiKey: "wrong", secret: Self.secret)])
        let answer = try await good.queryOrder(orderNo: "ORD-Q-1", merchantID: ScratchDirectory.merchantID)
        var refused: TrustPayAPIError?
        do {
            _ = try await bad.queryOrder(orderNo: "ORD-Q-1", merchantID: ScratchDirectory.merchantID)
        } catch {
            refused = error
        }
        try await http.shutdown()
        #expect(answer.status == .unliquidated && answer.fee?.description == "2.5")
        #expect(String(decoding: answer.rawAnswer, as: UTF8.self).contains(#""order_amount":"50""#))
        #expect(refused == .provider(code: .unauthorized, message: "unauthorized"))

        kill(child.pid, SIGTERM)
        #expect(await child.wait() == 0)
    }
}
