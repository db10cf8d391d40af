import Testing
import TrustPay
import TrustPayWebhooksTesting
import Webhooks

/// Risk control answers as the handler decides, and 503 when it cannot.
@Suite struct RiskControlTests {
    private func server(_ decide: @escaping Handlers.RiskControl, deadline: Duration = .seconds(2)) -> WebhookServer {
        makeServer(recorder: HandlerRecorder()) { server in
            server.configuration.riskControlDeadline = deadline
            server.onRiskControl(decide)
        }
    }

    @Test func theHandlerDecidesAllowDenyOrUnavailable() async throws {
        let seen = HandlerRecorder()
        let decide: Handlers.RiskControl = { request in
            seen.record(request)
            switch request.cardSuffix {
            case "0000": return .deny
            case "9999": return .unavailable
            case "6666": throw HandlerError(text: "rules engine down")
            default: return .allow
            }
        }
        try await withWebhookTestServer(server(decide)) { server in
            let allow = try await server.client.send(factory.riskControl(orderID: "RC-1", cardSuffix: "1234"))
            #expect(allow.status == 200)
            #expect(allow.text == "allow")
            #expect(allow.contentType == "text/plain")
            let deny = try await server.client.send(factory.riskControl(orderID: "RC-2", cardSuffix: "0000"))
            #expect(deny.status == 403)
            let unavailable = try await server.client.send(factory.riskControl(orderID: "RC-3", cardSuffix: "9999"))
            #expect(unavailable.status == 503)
            let threw = try await server.client.send(factory.riskControl(orderID: "RC-4", cardSuffix: "6666"))
            #expect(threw.status == 503)
            #expect(!threw.text.contains("rules engine"))
            #expect(seen.riskRequests.map(\.orderID) == ["RC-1", "RC-2", "RC-3", "RC-4"])
            #expect(seen.riskRequests[0].cardPrefix == "411111")
            #expect(seen.riskRequests[0].cardHolderName == "Test Holder")
        }
    }

    @Test func aDecisionPastTheDeadlineIsServiceUnavailable() async throws {
        let decide: Handlers.RiskControl = { _ in
            try await Task.sleep(for: .seconds(30))
            return .allow
        }
        try await withWebhookTestServer(server(decide, deadline: .milliseconds(150))) { server in
            let started = ContinuousClock.now
            let response = try await server.client.send(factory.riskControl(orderID: "RC-SLOW"))
            #expect(response.status == 503)
            #expect(response.errorCode == "decision_timeout")
            #expect(ContinuousClock.now - started < .seconds(20))
        }
    }

    @Test func withoutAHandlerRiskControlIsServiceUnavailable() async throws {
        try await withWebhookTestServer(makeServer(recorder: HandlerRecorder())) { server in
            let response = try await server.client.send(factory.riskControl(orderID: "RC-NONE"))
            #expect(response.status == 503)
        }
    }
}
