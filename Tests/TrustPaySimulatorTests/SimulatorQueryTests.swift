import AsyncHTTPClient
import Testing
import TrustPay
import TrustPayAPI
import TrustPaySimulator

let merchant = SimulatedMerchant(id: 8_820_250_900_009, secret: "s3cr3t-merchant-key", apiKey: "key-123")

func refundedOrder(_ orderNo: String = "ORD-1") -> ScriptedOrder {
    ScriptedOrder(
        merchantID: merchant.id, orderNo: orderNo, orderAmount: Amount("106.00")!,
        statuses: [
            ScriptedStatus(.unliquidated, fee: Amount("6.50")!, reason: "success"),
            ScriptedStatus(.refunded, refundNos: ["RF-1"], reason: "refund done"),
        ])
}

/// A simulator serving queries, a real API client pointed at it, both torn down after `body`.
func withSimulator<T: Sendable>(
    _ scenario: SimulatorScenario, apiKey: String = merchant.apiKey, secret: String = merchant.secret,
    maxAttempts: Int = 1,
    _ body: (TrustPaySimulator, TrustPayAPIClient) async throws -> T
) async throws -> T {
    let simulator = try TrustPaySimulator(scenario: scenario)
    let port = try simulator.start()
    let http = HTTPClient(
        eventLoopGroupProvider: .singleton, configuration: TrustPayAPIClient.recommendedHTTPClientConfiguration)
    let configuration = TrustPayAPIConfiguration(
        baseURL: "http://127.0.0.1:\(port)", apiKey: apiKey, secret: secret, maxAttempts: maxAttempts,
        initialBackoff: .milliseconds(10))
    do {
        let client = try TrustPayAPIClient(httpClient: http, merchants: [merchant.id: configuration])
        let result = try await body(simulator, client)
        try await http.shutdown()
        await simulator.stop()
        return result
    } catch {
        try? await http.shutdown()
        await simulator.stop()
        throw error
    }
}

func queryError(_ client: TrustPayAPIClient, _ orderNo: String) async -> TrustPayAPIError? {
    do {
        let answer = try await client.queryOrder(orderNo: orderNo, merchantID: merchant.id)
        Issue.record("expected an error, got \(answer)")
        return nil
    } catch {
        return error
    }
}

@Suite("Simulator: the Order Query API, through the real client over loopback")
struct SimulatorQueryTests {
    @Test("an order that has happened is answered like the provider, amounts as numbers or strings",
          arguments: AmountStyle.allCases)
    func answersTheCurrentStatus(_ style: AmountStyle) async throws {
        let scenario = SimulatorScenario(merchants: [merchant], amountsAs: style)
        try await withSimulator(scenario) { simulator, client in
            try simulator.add(refundedOrder(), reached: 0)
            var answer = try await client.queryOrder(orderNo: "ORD-1", merchantID: merchant.id)
            #expect(answer.status == .unliquidated && answer.orderType == .payin)
            #expect(answer.orderAmount?.description == "106.00" && answer.fee?.description == "6.50")
            #expect(answer.paidAmount == Amount("106") && answer.currency == "USD")
            #expect(answer.createdAt != nil && answer.platformOrderNo?.hasPrefix("TP") == true)
            let raw = String(decoding: answer.rawAnswer, as: UTF8.self)
            #expect(raw.hasPrefix(#"{"code":880001,"message":"success","data":{"#))
            #expect(raw.contains(style == .strings ? #""order_amount":"106.00""# : #""order_amount":106.00"#), "\(raw)")

            try simulator.add(refundedOrder())  // every status has happened now
            answer = try await client.queryOrder(orderNo: "ORD-1", merchantID: merchant.id)
            #expect(answer.status == .refunded && answer.refundAmount == Amount("106"))
            #expect(simulator.queries.map(\.code) == [.success, .success])
        }
    }

    @Test("a wrong API key is 880011 unauthorized, which the client reports as such")
    func badAPIKey() async throws {
        try await withSimulator(SimulatorScenario(merchants: [merchant]), apiKey: "stolen-or-stale") {
            simulator, client in
            try simulator.add(refundedOrder())
            let error = await queryError(client, "ORD-1")
            #expect(error == .provider(code: .unauthorized, message: "unauthorized"))
            #expect(simulator.queries.first?.code == .unauthorized)
        }
    }

    @Test("a request signed with another secret is 880002 bad_request: the simulator checks the signature")
    func badSignature() async throws {
        try await withSimulator(SimulatorScenario(merchants: [merchant]), secret: "not-the-secret") {
            simulator, client in
            try simulator.add(refundedOrder())
            let error = await queryError(client, "ORD-1")
            #expect(error == .provider(code: .badRequest, message: "invalid signature"))
        }
    }

    @Test("an unknown order, or one that has not happened yet, is 880002 'order not found'")
    func unknownOrder() async throws {
        let scenario = SimulatorScenario(merchants: [merchant], orders: [refundedOrder("LATER")])
        try await withSimulator(scenario) { _, client in
            #expect(await queryError(client, "NOPE") == .provider(code: .badRequest, message: "order not found"))
            #expect(await queryError(client, "LATER") == .provider(code: .badRequest, message: "order not found"))
        }
    }

    @Test("injected 5xx answers are retried by the client until the simulator answers")
    func serverErrorsRetried() async throws {
        try await withSimulator(SimulatorScenario(merchants: [merchant]), maxAttempts: 3) { simulator, client in
            try simulator.add(refundedOrder())
            simulator.failNextQueries(2, status: 503)
            let answer = try await client.queryOrder(orderNo: "ORD-1", merchantID: merchant.id)
            #expect(answer.status == .refunded)
            #expect(simulator.queries.map(\.httpStatus) == [503, 503, 200])
            #expect(Set(simulator.queries.map(\.apiKey)) == [merchant.apiKey])
        }
    }
}
