import Deadlines
import Foundation
import Testing
import TestSupport
import TrustPay
import TrustPayWebhooksTesting
@testable import Webhooks
import Locking

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

    /// The deadline waited out is exactly the configured 150 ms, and when it
    /// passes the answer is `503` and the undecided handler is cancelled. The
    /// deadline's timer is the test's, so no wall clock is involved and a
    /// loaded machine cannot fail it. Made to fail by having the pipeline use
    /// a fixed 2 s deadline (the limit asked for was 2 s) and by answering
    /// without waiting for the deadline (the answer came before the timer
    /// was released).
    @Test func aDecisionPastTheDeadlineIsServiceUnavailable() async throws {
        let handlerStarted = HandlerRecorder()
        let handlerCancelled = HandlerRecorder()
        let decide: Handlers.RiskControl = { request in
            handlerStarted.record(request)
            do {
                try await Task.sleep(for: .seconds(3600))
            } catch {
                handlerCancelled.record(request)
                throw error
            }
            return .allow
        }
        let deadline = ControlledTimer()
        let server = makeServer(recorder: HandlerRecorder()) { server in
            server.configuration.riskControlDeadline = .milliseconds(150)
            server.configuration.riskControlTimer = deadline
            server.onRiskControl(decide)
        }
        try await withWebhookTestServer(server) { server in
            let answered = Counter()
            @Sendable func send() async throws -> WebhookResponse {
                defer { answered.increment() }
                return try await server.client.send(factory.riskControl(orderID: "RC-SLOW"))
            }
            async let response = send()
            try await eventually("the handler to start and the deadline to be waited out") {
                handlerStarted.riskRequests.count == 1 && deadline.requested == [.milliseconds(150)]
            }
            #expect(answered.count == 0, "answered before the deadline passed")
            deadline.releaseAll()
            let answer = try await response
            #expect(answer.status == 503)
            #expect(answer.errorCode == "decision_timeout")
            try await eventually("the undecided handler to be cancelled") { handlerCancelled.riskRequests.count == 1 }
        }
    }

    @Test func withoutAHandlerRiskControlIsServiceUnavailable() async throws {
        try await withWebhookTestServer(makeServer(recorder: HandlerRecorder())) { server in
            let response = try await server.client.send(factory.riskControl(orderID: "RC-NONE"))
            #expect(response.status == 503)
        }
    }
}
