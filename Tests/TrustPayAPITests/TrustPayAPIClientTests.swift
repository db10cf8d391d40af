import AsyncHTTPClient
import Foundation
import Testing
import TrustPay
@testable import TrustPayAPI

@Suite("TrustPay API client against a scripted provider on loopback")
struct TrustPayAPIClientTests {
    static let merchantID: Int64 = 8_820_250_900_009
    static let apiKey = "api-key-0123456789"
    static let secret = "s3cr3t-merchant-key"

    func client(
        _ provider: ScriptedProvider, _ http: HTTPClient, _ adjust: (inout TrustPayAPIConfiguration) -> Void = { _ in }
    ) throws -> TrustPayAPIClient {
        // A safety net, not the subject (the timeout test sets its own): at
        // the suite's start every test competes for the 2-thread pool, and an
        // answer that had arrived waited past 10 s to be read, so the client
        // timed out and asked again (5 "not retried" tests failed that way).
        var configuration = TrustPayAPIConfiguration(
            baseURL: provider.baseURL + "/", apiKey: Self.apiKey, secret: Self.secret, timeout: .seconds(60),
            maxAttempts: 3, initialBackoff: .milliseconds(10), maxBackoff: .milliseconds(40),
            requestsPerSecond: nil)
        adjust(&configuration)
        return try TrustPayAPIClient(httpClient: http, merchants: [Self.merchantID: configuration])
    }

    /// Runs a query expected to fail and returns its error.
    func failure(_ query: () async throws(TrustPayAPIError) -> OrderQueryAnswer) async -> TrustPayAPIError? {
        do {
            let answer = try await query()
            Issue.record("expected an error, got \(answer)")
            return nil
        } catch {
            #expect(!error.description.contains(Self.apiKey) && !error.description.contains(Self.secret))
            return error
        }
    }

    @Test("a query is a signed JSON POST to /v4/query/order with X-Api-Key; the answer is read exactly")
    func signedRequestAndAnswer() async throws {
        try await withProvider([.answer(200, ScriptedProvider.success(amount: "12345678901234567890.10"))]) {
            provider, http in
            let api = try client(provider, http)
            let answer = try await api.queryOrder(orderNo: "ORD-1", merchantID: Self.merchantID)
            #expect(answer.status == .unliquidated && answer.orderType == .payin)
            #expect(answer.orderAmount?.description == "12345678901234567890.10")
            #expect(answer.paidAmount == answer.orderAmount)

            let request = try #require(provider.received.first)
            #expect(provider.received.count == 1)
            #expect(request.path == "/v4/query/order")
            #expect(request.contentType == "application/json")
            #expect(request.apiKey == Self.apiKey)
            #expect(TrustPaySignature().verify(body: request.body, secrets: [Self.secret], forms: [.asTransmitted])
                .isValid)
            let fields = try #require(try JSONValue(parsing: request.body).objectValue)
            #expect(fields.keys == ["order_no", "sign"])
            #expect(fields["order_no"] == "ORD-1")
        }
    }

    @Test("with sendsMerchantID the merchant id is sent and signed too")
    func merchantIDSent() async throws {
        try await withProvider([.answer(200, ScriptedProvider.success())]) { provider, http in
            let api = try client(provider, http) { $0.sendsMerchantID = true }
            _ = try await api.queryOrder(orderNo: "ORD-1", merchantID: Self.merchantID)
            let body = try #require(provider.received.first?.body)
            #expect(String(decoding: body, as: UTF8.self).hasPrefix(#"{"merchant_id":8820250900009,"order_no":"ORD-1","#))
            #expect(TrustPaySignature().verify(body: body, secrets: [Self.secret]).isValid)
        }
    }

    @Test("a refused API key is .provider(.unauthorized), asked once, never retried")
    func unauthorizedIsNotRetried() async throws {
        try await withProvider([.answer(200, ScriptedProvider.refusal(880011, "invalid api key"))]) { provider, http in
            let api = try client(provider, http)
            let error = await failure { () async throws(TrustPayAPIError) in
                try await api.queryOrder(orderNo: "ORD-1", merchantID: Self.merchantID)
            }
            #expect(error == .provider(code: .unauthorized, message: "invalid api key"))
            #expect(error?.description.contains("API key") == true)
            #expect(provider.received.count == 1)
        }
    }

    @Test("a refusal sent with an HTTP error status is still the provider's code, not retried")
    func refusalWithErrorStatus() async throws {
        try await withProvider([.answer(401, ScriptedProvider.refusal(880011, "unauthorized"))]) { provider, http in
            let api = try client(provider, http)
            let error = await failure { () async throws(TrustPayAPIError) in
                try await api.queryOrder(orderNo: "ORD-1", merchantID: Self.merchantID)
            }
            #expect(error == .provider(code: .unauthorized, message: "unauthorized"))
            #expect(provider.received.count == 1)
        }
    }

    @Test("an unknown order is a non-success provider code")
    func unknownOrder() async throws {
        try await withProvider([.answer(200, ScriptedProvider.refusal(880002, "order not found"))]) { provider, http in
            let api = try client(provider, http)
            let error = await failure { () async throws(TrustPayAPIError) in
                try await api.queryOrder(orderNo: "NOPE", merchantID: Self.merchantID)
            }
            #expect(error == .provider(code: .badRequest, message: "order not found"))
            #expect(provider.received.count == 1)
        }
    }

    @Test("5xx answers are retried with back-off until one succeeds")
    func serverErrorsAreRetried() async throws {
        try await withProvider([
            .answer(503, "busy"), .answer(500, #"{"oops":true}"#), .answer(200, ScriptedProvider.success()),
        ]) { provider, http in
            let api = try client(provider, http)
            let answer = try await api.queryOrder(orderNo: "ORD-1", merchantID: Self.merchantID)
            #expect(answer.orderNo == "ORD-1")
            #expect(provider.received.count == 3)
            // Each attempt is signed afresh from the same fields: identical bodies.
            #expect(Set(provider.received.map(\.body)).count == 1)
        }
    }

    @Test("after maxAttempts 5xx answers the last status is the error")
    func retriesAreBounded() async throws {
        try await withProvider([.answer(502, "bad gateway")]) { provider, http in
            let api = try client(provider, http) { $0.maxAttempts = 2 }
            let error = await failure { () async throws(TrustPayAPIError) in
                try await api.queryOrder(orderNo: "ORD-1", merchantID: Self.merchantID)
            }
            #expect(error == .httpStatus(502))
            #expect(provider.received.count == 2)
        }
    }

    @Test("a 4xx without a provider code is an HTTP status error, not retried")
    func clientErrorsAreNotRetried() async throws {
        try await withProvider([.answer(404, "not here")]) { provider, http in
            let api = try client(provider, http)
            let error = await failure { () async throws(TrustPayAPIError) in
                try await api.queryOrder(orderNo: "ORD-1", merchantID: Self.merchantID)
            }
            #expect(error == .httpStatus(404))
            #expect(provider.received.count == 1)
        }
    }

    @Test("a malformed answer, or one about another order, is .malformedAnswer and not retried",
          arguments: [
            ("{\"code\":880001,\"message\":\"success\"}", "\"data\" is missing"),
            ("<html>", "not valid JSON"),
            (ScriptedProvider.success(orderNo: "ORD-2"), "describes order \"ORD-2\""),
            (ScriptedProvider.success(merchantID: 1), "of merchant 1,"),
          ])
    func malformedAnswers(_ pair: (String, String)) async throws {
        try await withProvider([.answer(200, pair.0)]) { provider, http in
            let api = try client(provider, http)
            let error = await failure { () async throws(TrustPayAPIError) in
                try await api.queryOrder(orderNo: "ORD-1", merchantID: Self.merchantID)
            }
            guard case .malformedAnswer(let why)? = error else {
                Issue.record("expected malformedAnswer, got \(String(describing: error))")
                return
            }
            #expect(why.contains(pair.1), "\(why)")
            #expect(provider.received.count == 1)
        }
    }

    @Test("an answer slower than the timeout is .timedOut after every attempt")
    func timeout() async throws {
        try await withProvider([.slow(.seconds(10), 200, ScriptedProvider.success())]) { provider, http in
            let api = try client(provider, http) {
                $0.timeout = .milliseconds(200)
                $0.maxAttempts = 2
            }
            let error = await failure { () async throws(TrustPayAPIError) in
                try await api.queryOrder(orderNo: "ORD-1", merchantID: Self.merchantID)
            }
            #expect(error == .timedOut)
        }
    }

    @Test("a refused connection is a transport error, retried then reported")
    func connectionRefused() async throws {
        let http = HTTPClient(
            eventLoopGroupProvider: .singleton, configuration: TrustPayAPIClient.recommendedHTTPClientConfiguration)
        let configuration = TrustPayAPIConfiguration(
            baseURL: "http://127.0.0.1:1", apiKey: Self.apiKey, secret: Self.secret, maxAttempts: 2,
            initialBackoff: .milliseconds(5))
        let api = try TrustPayAPIClient(httpClient: http, merchants: [Self.merchantID: configuration])
        let error = await failure { () async throws(TrustPayAPIError) in
            try await api.queryOrder(orderNo: "ORD-1", merchantID: Self.merchantID)
        }
        try await http.shutdown()
        guard case .transport? = error else {
            Issue.record("expected a transport error, got \(String(describing: error))")
            return
        }
    }

    @Test("a merchant without configuration is .noCredentials, and nothing is sent")
    func noCredentials() async throws {
        try await withProvider([.answer(200, ScriptedProvider.success())]) { provider, http in
            let api = try client(provider, http)
            let error = await failure { () async throws(TrustPayAPIError) in
                try await api.queryOrder(orderNo: "ORD-1", merchantID: 42)
            }
            #expect(error == .noCredentials(merchantID: 42))
            #expect(provider.received.isEmpty)
        }
    }

    @Test("no more requests are in flight for a merchant than maxConcurrentRequests")
    func concurrencyIsBounded() async throws {
        try await withProvider([.slow(.milliseconds(150), 200, ScriptedProvider.success())]) { provider, http in
            let api = try client(provider, http) { $0.maxConcurrentRequests = 2 }
            let answers = try await withThrowingTaskGroup(of: OrderQueryAnswer.self) { group in
                for _ in 0..<6 {
                    group.addTask { try await api.queryOrder(orderNo: "ORD-1", merchantID: Self.merchantID) }
                }
                return try await group.reduce(into: [OrderQueryAnswer]()) { $0.append($1) }
            }
            #expect(answers.count == 6)
            #expect(provider.received.count == 6)
            #expect(provider.maxInFlight <= 2, "\(provider.maxInFlight) in flight")
        }
    }

    @Test("request starts are spaced by requestsPerSecond")
    func rateIsBounded() async throws {
        try await withProvider([.answer(200, ScriptedProvider.success())]) { provider, http in
            let api = try client(provider, http) {
                $0.requestsPerSecond = 20
                $0.maxConcurrentRequests = 5
            }
            let clock = ContinuousClock()
            let started = clock.now
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<5 {
                    group.addTask { _ = try await api.queryOrder(orderNo: "ORD-1", merchantID: Self.merchantID) }
                }
                try await group.waitForAll()
            }
            // Five starts 50 ms apart: the last cannot begin before 200 ms.
            // A lower bound only, so a slow machine cannot make it fail.
            #expect(clock.now - started >= .milliseconds(200))
            #expect(provider.received.count == 5)
        }
    }
}

@Suite("TrustPay API configuration")
struct TrustPayAPIConfigurationTests {
    @Test("configurations that cannot work are refused when the client is built, naming the merchant",
          arguments: [
            (TrustPayAPIConfiguration(baseURL: "ftp://x", apiKey: "k", secret: "s"), "base_url"),
            (TrustPayAPIConfiguration(baseURL: "not a url", apiKey: "k", secret: "s"), "base_url"),
            (TrustPayAPIConfiguration(apiKey: "", secret: "s"), "API key"),
            (TrustPayAPIConfiguration(apiKey: "k", secret: ""), "secret"),
            (TrustPayAPIConfiguration(apiKey: "k", secret: "s", maxAttempts: 0), "attempts"),
            (TrustPayAPIConfiguration(apiKey: "k", secret: "s", maxConcurrentRequests: 0), "concurrent"),
            (TrustPayAPIConfiguration(apiKey: "k", secret: "s", requestsPerSecond: 0), "per second"),
            (TrustPayAPIConfiguration(apiKey: "k", secret: "s", timeout: .zero), "timeout"),
            (TrustPayAPIConfiguration(apiKey: "k", secret: "s", caCertificatePath: "/nonexistent/ca.pem"), "CA file"),
          ])
    func invalid(_ pair: (TrustPayAPIConfiguration, String)) throws {
        let http = HTTPClient.shared
        do {
            _ = try TrustPayAPIClient(httpClient: http, merchants: [7: pair.0])
            Issue.record("accepted \(pair.0)")
        } catch {
            #expect(error.merchantID == 7)
            #expect(error.description.contains(pair.1), "\(error)")
        }
    }

    @Test("the default base URL is the provider's, and descriptions hold neither key nor secret")
    func defaults() {
        let configuration = TrustPayAPIConfiguration(apiKey: "KEY-abc", secret: "SECRET-xyz")
        #expect(configuration.baseURL == "https://api.trustpay.money")
        #expect(!configuration.description.contains("KEY-abc") && !configuration.description.contains("SECRET-xyz"))
    }

    @Test("back-off doubles up to its cap")
    func backoff() {
        let configuration = TrustPayAPIConfiguration(
            apiKey: "k", secret: "s", initialBackoff: .milliseconds(100), maxBackoff: .milliseconds(350))
        #expect((1...4).map(configuration.backoff(after:))
            == [.milliseconds(100), .milliseconds(200), .milliseconds(350), .milliseconds(350)])
    }

    @Test("errors say what went wrong without any credential",
          arguments: [
            TrustPayAPIError.provider(code: .unauthorized, message: "bad key"), .httpStatus(503),
            .transport("connection refused"), .timedOut, .malformedAnswer("x"), .noCredentials(merchantID: 9),
          ])
    func errorDescriptions(_ error: TrustPayAPIError) {
        #expect(!error.description.isEmpty)
        #expect(error.isRetryable == [.httpStatus(503), .transport("connection refused"), .timedOut].contains(error))
    }
}
