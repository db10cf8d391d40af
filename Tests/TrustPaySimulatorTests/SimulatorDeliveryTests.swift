import AsyncHTTPClient
import Foundation
import Testing
import TrustPay
import TrustPayAPI
import TrustPaySimulator

/// Short waits: the schedule's shape is what is tested, not its length.
let quickSchedule: [Duration] = [.zero, .milliseconds(20), .milliseconds(20), .milliseconds(20)]

func scenario(_ orders: [ScriptedOrder], notifyURL: String) -> SimulatorScenario {
    SimulatorScenario(
        merchants: [merchant], orders: orders, notifyURL: notifyURL, retrySchedule: quickSchedule,
        deliveryTimeout: .seconds(5))
}

@Suite("Simulator: callback delivery to a real listening socket")
struct SimulatorDeliveryTests {
    @Test("a callback refused twice is retried on the schedule and delivered on the third attempt")
    func retriedThenDelivered() async throws {
        let receiver = try Receiver(answering: [500, 503, 200])
        let order = ScriptedOrder(
            merchantID: merchant.id, orderNo: "ORD-1", orderAmount: Amount("106")!,
            statuses: [ScriptedStatus(.unliquidated, fee: Amount("6")!, reason: "success")])
        let simulator = try TrustPaySimulator(scenario: scenario([order], notifyURL: receiver.url))
        let records = await simulator.deliverCallbacks()
        await receiver.stop()

        #expect(records.count == 1)
        #expect(records.first?.attempts == [.answered(500), .answered(503), .answered(200)])
        #expect(records.first?.outcome == .delivered)
        let bodies = receiver.bodies
        #expect(bodies.count == 3 && Set(bodies).count == 1, "every attempt posts the same signed body")
        #expect(simulator.deliveries == records)
    }

    @Test("bodies are the documented payment callback, signed with the merchant's secret")
    func bodiesAreDocumentedCallbacks() async throws {
        let receiver = try Receiver(answering: [200])
        let simulator = try TrustPaySimulator(scenario: scenario([refundedOrder()], notifyURL: receiver.url))
        _ = await simulator.deliverCallbacks()
        await receiver.stop()

        let bodies = receiver.bodies
        try #require(bodies.count == 2)
        for body in bodies {
            #expect(TrustPaySignature().verify(body: body, secrets: [merchant.secret], forms: [.asTransmitted]).isValid)
        }
        let paid = try PaymentCallback(body: bodies[0])
        #expect(paid.fields.keys == ["type", "merchant_id", "order_no", "order_amount", "paid_amount",
                                     "balance_amount", "fee", "pay_time", "status", "reason", "sign"])
        #expect(paid.status == .unliquidated && paid.orderAmount.description == "106.00")
        #expect(paid.balanceAmount?.description == "99.50" && paid.fee?.description == "6.50")
        let refund = try PaymentCallback(body: bodies[1])
        #expect(refund.fields.keys == ["type", "merchant_id", "order_no", "order_amount", "merchant_refund_no",
                                       "refund_amount", "status", "reason", "sign"])
        #expect(refund.status == .refunded && refund.merchantRefundNos == ["RF-1"])
        #expect(refund.refundAmount == Amount("106"))
    }

    @Test("after the last attempt of the schedule the simulator gives up; the query then tells the order's state")
    func givesUp() async throws {
        let receiver = try Receiver(answering: [503])
        let order = refundedOrder()
        let simulator = try TrustPaySimulator(scenario: scenario([order], notifyURL: receiver.url))
        let port = try simulator.start()
        let records = await simulator.deliverCallbacks()
        await receiver.stop()

        // The first status is given up, and TrustPay moves on to the next.
        #expect(records.map(\.outcome) == [.gaveUp, .gaveUp])
        #expect(records.map(\.attempts.count) == [4, 4])
        #expect(receiver.bodies.count == 8)

        let http = HTTPClient(
            eventLoopGroupProvider: .singleton, configuration: TrustPayAPIClient.recommendedHTTPClientConfiguration)
        let client = try TrustPayAPIClient(
            httpClient: http,
            merchants: [merchant.id: .init(
                baseURL: "http://127.0.0.1:\(port)", apiKey: merchant.apiKey, secret: merchant.secret)])
        let answer = try await client.queryOrder(orderNo: "ORD-1", merchantID: merchant.id)
        try await http.shutdown()
        await simulator.stop()
        #expect(answer.status == .refunded)
        #expect(answer.notifyStatus == 3)  // failed
    }

    @Test("nobody listening: every attempt fails without an answer, then the simulator gives up")
    func nobodyListening() async throws {
        let receiver = try Receiver(answering: [200])
        let url = receiver.url
        await receiver.stop()  // the port is closed now
        let order = ScriptedOrder(
            merchantID: merchant.id, orderNo: "ORD-1", orderAmount: Amount("5")!, statuses: [ScriptedStatus(.failed)])
        let simulator = try TrustPaySimulator(scenario: scenario([order], notifyURL: url))
        let records = await simulator.deliverCallbacks()
        #expect(records.count == 1 && records[0].outcome == .gaveUp && records[0].attempts.count == 4)
        for attempt in records[0].attempts {
            guard case .failed = attempt else {
                Issue.record("expected a failed attempt, got \(attempt)")
                continue
            }
        }
    }

    @Test("repeats and out-of-order statuses: copies post the same body again, delivery_order reorders")
    func repeatsAndOutOfOrder() async throws {
        let receiver = try Receiver(answering: [200])
        var order = refundedOrder()
        order.statuses[0].copies = 2
        order.deliveryOrder = [1, 0]
        let simulator = try TrustPaySimulator(scenario: scenario([order], notifyURL: receiver.url))
        let records = await simulator.deliverCallbacks()
        await receiver.stop()

        #expect(records.map(\.status) == [.refunded, .unliquidated, .unliquidated])
        #expect(records.map(\.copy) == [1, 1, 2])
        let statuses = try receiver.bodies.map { try PaymentCallback(body: $0).status }
        #expect(statuses == [.refunded, .unliquidated, .unliquidated])
        #expect(receiver.bodies[1] == receiver.bodies[2])
    }

    @Test("a status that is never delivered is still what the query answers")
    func undeliveredStatusIsQueryable() async throws {
        let receiver = try Receiver(answering: [200])
        var order = refundedOrder()
        order.statuses[1].deliver = false
        let simulator = try TrustPaySimulator(scenario: scenario([order], notifyURL: receiver.url))
        let port = try simulator.start()
        let records = await simulator.deliverCallbacks()
        await receiver.stop()
        #expect(records.map(\.status) == [.unliquidated])

        let http = HTTPClient(
            eventLoopGroupProvider: .singleton, configuration: TrustPayAPIClient.recommendedHTTPClientConfiguration)
        let client = try TrustPayAPIClient(
            httpClient: http,
            merchants: [merchant.id: .init(
                baseURL: "http://127.0.0.1:\(port)", apiKey: merchant.apiKey, secret: merchant.secret)])
        let answer = try await client.queryOrder(orderNo: "ORD-1", merchantID: merchant.id)
        try await http.shutdown()
        await simulator.stop()
        #expect(answer.status == .refunded)
    }
}

@Suite("Simulator scenarios")
struct SimulatorScenarioTests {
    @Test("a scenario file decodes with exact amounts and waits in seconds")
    func decodes() throws {
        let json = #"""
            {"merchants":[{"id":1,"secret":"s","api_key":"k"}],"notify_url":"http://127.0.0.1:9/x",
             "retry_schedule":[0,0.5,2],"amounts_as":"strings",
             "orders":[{"merchant_id":1,"order_no":"A","type":"payout","order_amount":"20.00",
                        "statuses":[{"status":2,"fee":0.60,"copies":3},{"status":3,"deliver":false}],
                        "delivery_order":[0]}]}
            """#
        let scenario = try JSONDecoder().decode(SimulatorScenario.self, from: Data(json.utf8))
        #expect(scenario.retrySchedule == [.zero, .milliseconds(500), .seconds(2)])
        #expect(scenario.amountsAs == .strings)
        let order = try #require(scenario.orders.first)
        #expect(order.type == .payout && order.orderAmount.description == "20.00")
        #expect(order.statuses.map(\.copies) == [3, 1] && order.statuses[1].deliver == false)
        #expect(order.statuses[0].fee == Amount("0.6"))
        #expect(scenario.problem() == nil)
    }

    @Test("misspelt keys and impossible scenarios are refused with a reason",
          arguments: [
            (#"{"merchants":[{"id":1,"secret":"s","apikey":"k"}]}"#, "unknown key \"apikey\""),
            (#"{"merchants":[{"id":1,"secret":"s","api_key":"k"}],"retry_schedule":[-1]}"#, "retry_schedule"),
          ])
    func refused(_ pair: (String, String)) {
        do {
            _ = try JSONDecoder().decode(SimulatorScenario.self, from: Data(pair.0.utf8))
            Issue.record("accepted")
        } catch {
            #expect("\(error)".contains(pair.1), "\(error)")
        }
    }

    @Test("scenario rules", arguments: [
        (SimulatorScenario(merchants: []), "no merchant"),
        (SimulatorScenario(merchants: [merchant], retrySchedule: []), "retry_schedule"),
        (SimulatorScenario(merchants: [merchant], orders: [
            ScriptedOrder(merchantID: 99, orderNo: "A", orderAmount: .zero, statuses: [ScriptedStatus(.paid)])]),
         "merchant 99"),
        (SimulatorScenario(merchants: [merchant], orders: [
            ScriptedOrder(merchantID: merchant.id, orderNo: "A", orderAmount: .zero,
                          statuses: [ScriptedStatus(.paid)], deliveryOrder: [0, 0])]),
         "delivery_order"),
    ])
    func rules(_ pair: (SimulatorScenario, String)) {
        #expect(pair.0.problem()?.contains(pair.1) == true, "\(String(describing: pair.0.problem()))")
        #expect(throws: SimulatorError.self) { try TrustPaySimulator(scenario: pair.0) }
    }
}
