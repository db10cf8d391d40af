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

    /// Each server's configured deadline, not a default nor the handler's 30 s,
    /// ends the wait: the 150 ms one answers after at least 150 ms and before
    /// the 3 s one, which answers after at least 3 s. Lower bounds cannot fail
    /// on a loaded machine; the one upper bound is the other server's deadline,
    /// 20 times the one under test. Made to fail by having the pipeline use a
    /// fixed 2 s deadline (the 3 s server answered after 2 s) and by ignoring
    /// the deadline (the 150 ms server answered after 30 s).
    @Test func aDecisionPastTheDeadlineIsServiceUnavailable() async throws {
        let cancelled = HandlerRecorder()
        let decide: Handlers.RiskControl = { request in
            do {
                try await Task.sleep(for: .seconds(30))
            } catch {
                cancelled.record(request)  // the deadline cancelled the undecided handler
                throw error
            }
            return .allow
        }
        let short = server(decide, deadline: .milliseconds(150))
        let long = server(decide, deadline: .seconds(3))
        try await withWebhookTestServer(short) { short in
            try await withWebhookTestServer(long) { long in
                let started = ContinuousClock.now
                let answers = try await withThrowingTaskGroup(of: (String, Int, String?, Duration).self) { group in
                    for (name, client) in [("short", short.client), ("long", long.client)] {
                        group.addTask {
                            let response = try await client.send(factory.riskControl(orderID: "RC-\(name)"))
                            return (name, response.status, response.errorCode, ContinuousClock.now - started)
                        }
                    }
                    var answers: [(name: String, status: Int, code: String?, elapsed: Duration)] = []
                    for try await answer in group { answers.append(answer) }
                    return answers
                }
                #expect(answers.map(\.name) == ["short", "long"], "the 150 ms deadline must answer first")
                for answer in answers {
                    #expect(answer.status == 503 && answer.code == "decision_timeout", "\(answer.name)")
                }
                let short = try #require(answers.first { $0.name == "short" })
                let long = try #require(answers.first { $0.name == "long" })
                #expect(short.elapsed >= .milliseconds(150) && short.elapsed < .seconds(3), "\(short.elapsed)")
                #expect(long.elapsed >= .seconds(3), "\(long.elapsed)")
                try await eventually("both undecided handlers to be cancelled") { cancelled.riskRequests.count == 2 }
            }
        }
    }

    @Test func withoutAHandlerRiskControlIsServiceUnavailable() async throws {
        try await withWebhookTestServer(makeServer(recorder: HandlerRecorder())) { server in
            let response = try await server.client.send(factory.riskControl(orderID: "RC-NONE"))
            #expect(response.status == 503)
        }
    }
}
