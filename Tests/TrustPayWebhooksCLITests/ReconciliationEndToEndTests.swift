import Foundation
import PostgresTestCluster
import SQLiteInbox
import Testing
import TestSupport
import TrustPay
import TrustPaySimulator

/// Issue #15 end to end, with the built binary and the simulator: the server
/// is down while TrustPay delivers, TrustPay gives up, and the restarted
/// server records every missed final status exactly once from the Order
/// Query API; the late genuine callbacks that follow are duplicates.
@Suite(.serialized) struct ReconciliationEndToEndTests {
    static let secret = "e2e-reconcile-secret"
    static let apiKey = "e2e-reconcile-api-key"
    static let merchant = ScratchDirectory.merchantID

    /// Three orders whose final statuses TrustPay delivers while the server is down.
    static let orders: [(no: String, type: OrderType, final: Int)] = [
        ("E2E-PAYIN", .payin, 5), ("E2E-PAYOUT", .payout, 2), ("E2E-REFUND", .payin, 7),
    ]

    static func scenario(notifyURL: String) -> SimulatorScenario {
        SimulatorScenario(
            merchants: [SimulatedMerchant(id: merchant, secret: secret, apiKey: apiKey)],
            orders: [
                ScriptedOrder(merchantID: merchant, orderNo: "E2E-PAYIN", orderAmount: Amount("106")!,
                              statuses: [ScriptedStatus(.unliquidated, fee: Amount("6")!)]),
                ScriptedOrder(merchantID: merchant, orderNo: "E2E-PAYOUT", type: .payout, orderAmount: Amount("50")!,
                              statuses: [ScriptedStatus(.paid, fee: Amount("1.5")!)]),
                ScriptedOrder(merchantID: merchant, orderNo: "E2E-REFUND", orderAmount: Amount("20.00")!,
                              statuses: [ScriptedStatus(.unliquidated), ScriptedStatus(.refunded, refundNos: ["RF-1"])]),
            ],
            notifyURL: notifyURL, retrySchedule: [.zero, .milliseconds(100), .milliseconds(200)])
    }

    static func config(
        _ directory: ScratchDirectory, port: Int, store: String, simulator: String, replica: String = "r1"
    ) -> String {
        """
        server:
          host: 127.0.0.1
          port: \(port)
          event_loops: 1
        store:
        \(store)
        replica:
          name: \(replica)
        merchants:
          - id: \(merchant)
            secrets: [{value: "\(secret)"}]
            api:
              base_url: \(simulator)
              key: {value: "\(apiKey)"}
        reconcile:
          interval: 1s
          after: 1s
          max_age: 1d
        handlers:
          - type: jsonl
            path: \(directory.url.path)/events-\(replica).jsonl
        """
    }

    /// `events list --json` for the order: (status, source) of each event.
    static func events(_ order: String, config: URL, in directory: ScratchDirectory) async throws -> [(Int, String)] {
        let listed = try await BuiltCLI.run(["events", "list", "--json", "--order-no", order, "--config", config.path], in: directory)
        let array = try JSONSerialization.jsonObject(with: Data(listed.stdout.utf8)) as? [[String: Any]] ?? []
        return array.map { ($0["status"] as? Int ?? -1, $0["source"] as? String ?? "?") }
    }

    /// Polls until every order's final status is stored (or 60 s pass: a safety net, not a timing claim).
    static func waitForReconciled(config: URL, in directory: ScratchDirectory) async throws {
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline {
            var missing = false
            for order in orders where !(try await events(order.no, config: config, in: directory)).contains(where: { $0.0 == order.final }) {
                missing = true
            }
            if !missing { return }
            try await Task.sleep(for: .milliseconds(300))
        }
    }

    /// Starts serve on a free port and stops it: the port of a server that is down.
    static func portOfAStoppedServer(_ directory: ScratchDirectory, store: String) async throws -> Int {
        let probe = try await ServeProcess.start(
            config: config(directory, port: 0, store: store, simulator: "http://127.0.0.1:9", replica: "probe"),
            in: directory)
        probe.stop()
        return probe.port
    }

    /// The scenario from the point the server is down: TrustPay gives up,
    /// `start` brings the server(s) back, each missed final status is
    /// recorded once, and the late genuine callbacks are duplicates.
    static func missedWhileDown(
        store: String, in directory: ScratchDirectory,
        start: (_ port: Int, _ simulator: String) async throws -> (config: URL, servers: [ServeProcess])
    ) async throws -> TrustPaySimulator {
        let port = try await portOfAStoppedServer(directory, store: store)
        let notify = "http://127.0.0.1:\(port)/trustpay/payment"
        let simulator = try TrustPaySimulator(scenario: scenario(notifyURL: notify))
        let simulatorPort = try simulator.start()
        let simulatorURL = "http://127.0.0.1:\(simulatorPort)"
        // The merchant created the orders and expects their callbacks.
        let expectConfig = directory.file("expect.yaml", contents: config(directory, port: 0, store: store, simulator: simulatorURL))
        for order in orders {
            let expected = try await BuiltCLI.run(
                ["expect", "--order-no", order.no, "--type", "\(order.type)", "--config", expectConfig.path], in: directory)
            #expect(expected.status == 0, "\(expected.output)")
        }

        let missed = await simulator.deliverCallbacks()
        #expect(missed.count == 4 && missed.allSatisfy { $0.outcome == .gaveUp && $0.attempts.count == 3 },
                "TrustPay tried three times each and gave up: \(missed.map { "\($0.orderNo) \($0.outcome)" })")

        let (config, servers) = try await start(port, simulatorURL)
        defer { servers.forEach { $0.stop() } }
        try await waitForReconciled(config: config, in: directory)
        for order in orders {
            let stored = try await events(order.no, config: config, in: directory)
            #expect(stored.map { "\($0.0) \($0.1)" } == ["\(order.final) order-query"],
                    "\(order.no): its final status once, from the Order Query API: \(stored)")
        }

        // TrustPay's late, genuine callbacks: acknowledged, and duplicates.
        let late = try TrustPaySimulator(scenario: scenario(notifyURL: notify))
        let delivered = await late.deliverCallbacks()
        #expect(delivered.allSatisfy { $0.outcome == .delivered }, "\(delivered.map { "\($0.orderNo) \($0.outcome)" })")
        for order in orders {
            let stored = try await events(order.no, config: config, in: directory)
            #expect(stored.filter { $0.0 == order.final }.map(\.1) == ["order-query"],
                    "\(order.no): the late callback of its final status is a duplicate: \(stored)")
        }
        // Counted: three queries answered, three events recovered, the orders waiting gauged.
        let (_, metrics) = try await StandaloneServerTests.get("http://127.0.0.1:\(servers[0].port)/metrics")
        if servers.count == 1 {
            #expect(metrics.contains("trustpay_webhooks_events_recovered_total 3"), "\(metrics)")
            #expect(metrics.contains(#"trustpay_webhooks_order_queries_total{outcome="success"} 3"#), "\(metrics)")
            #expect(metrics.contains("trustpay_webhooks_orders_waiting "), "\(metrics)")
        }
        // The handlers saw each reconciled status once, marked as such.
        let handled = (try? String(contentsOf: directory.url.appendingPathComponent("events-r1.jsonl"), encoding: .utf8)) ?? ""
        for order in orders {
            let lines = handled.split(separator: "\n").filter {
                $0.contains("\"order_no\":\"\(order.no)\"") && $0.contains("\"status\":\(order.final),")
            }
            if servers.count == 1 {
                #expect(lines.count == 1 && lines[0].contains(#""source":"order-query""#), "\(order.no): \(lines)")
            }
        }
        return simulator
    }

    @Test func aRestartedServerRecordsWhatTrustPayGaveUpDeliveringOnce() async throws {
        let directory = try ScratchDirectory()
        defer { directory.remove() }
        let store = "  kind: sqlite\n  sqlite:\n    path: \(directory.url.path)/inbox.sqlite"
        let simulator = try await Self.missedWhileDown(store: store, in: directory) { port, simulatorURL in
            let server = try await ServeProcess.start(
                config: Self.config(directory, port: port, store: store, simulator: simulatorURL), in: directory)
            return (directory.url.appendingPathComponent("serve.yaml"), [server])
        }
        await simulator.stop()
    }

    @Test(.requiresPostgreSQL, .timeLimit(.minutes(4)))
    func twoReplicasOnPostgreSQLRecordEachMissedStatusOnceAndQueryEachOrderOnce() async throws {
        let cluster = try await PostgresTestCluster.start()
        let directory = try ScratchDirectory()
        defer { directory.remove() }
        do {
            let url = try await cluster.createDatabase()
            let store = "  kind: postgres\n  postgres:\n    url: \"\(url)\"\n    timeout: 2s"
            let simulator = try await Self.missedWhileDown(store: store, in: directory) { port, simulatorURL in
                let first = try ScratchDirectory()
                let second = try ScratchDirectory()
                let a = try await ServeProcess.start(
                    config: Self.config(directory, port: port, store: store, simulator: simulatorURL, replica: "r1"), in: first)
                let b = try await ServeProcess.start(
                    config: Self.config(directory, port: 0, store: store, simulator: simulatorURL, replica: "r2"), in: second)
                return (first.url.appendingPathComponent("serve.yaml"), [a, b])
            }
            // Both replicas swept every second; the order leases let one query each order, once.
            let queries = simulator.queries.compactMap(\.orderNo)
            for order in Self.orders {
                #expect(queries.filter { $0 == order.no }.count == 1,
                        "\(order.no) was queried once by the two replicas together: \(queries)")
            }
            await simulator.stop()
        } catch {
            await cluster.destroy()
            throw error
        }
        await cluster.destroy()
    }
}
