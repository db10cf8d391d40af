import Inbox
import Testing
import TrustPay
import TrustPayWebhooksTesting
import Webhooks

/// Every rejection over real HTTP, with its status and JSON error body.
@Suite struct RejectionTests {
    static let paid = factory.payment(orderNo: "REJ-1", status: .unliquidated)

    /// Sends, checks the status and the error body, and that no secret is echoed.
    private func expectRejection(
        _ client: WebhookClient, _ request: TestRequest, status: Int, code: String,
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws {
        let response = try await client.send(request)
        #expect(response.status == status, "\(response)", sourceLocation: sourceLocation)
        #expect(response.contentType == "application/json", sourceLocation: sourceLocation)
        #expect(response.errorCode == code, "\(response)", sourceLocation: sourceLocation)
        guard case .object(let body)? = try? JSONValue(parsing: response.body) else {
            Issue.record("error body is not a JSON object", sourceLocation: sourceLocation)
            return
        }
        #expect(body["message"]?.stringValue?.isEmpty == false, sourceLocation: sourceLocation)
        #expect(!response.text.contains(merchant.secret), sourceLocation: sourceLocation)
        #expect(!response.text.contains(Self.paid.sign), sourceLocation: sourceLocation)
    }

    @Test func malformedBodiesAreBadRequests() async throws {
        let recorder = HandlerRecorder()
        try await withWebhookTestServer(makeServer(recorder: recorder)) { server in
            let client = server.client
            try await expectRejection(client, .json("/trustpay/payment", body: Array("{\"order_no\":".utf8)), status: 400, code: "invalid_json")
            try await expectRejection(client, .json("/trustpay/payment", body: Array("[1,2]".utf8)), status: 400, code: "invalid_json")
            try await expectRejection(client, .json("/trustpay/payment", body: []), status: 400, code: "invalid_json")
            let noOrder = Self.paid.resigned { $0["order_no"] = nil }
            try await expectRejection(client, noOrder.request, status: 400, code: "missing_field")
            let badAmount = Self.paid.resigned { $0["order_amount"] = "lots" }
            try await expectRejection(client, badAmount.request, status: 400, code: "invalid_field")
            let cardWithoutStatus = factory.card(orderNo: "C", status: 1).resigned { $0["status"] = nil }
            try await expectRejection(client, cardWithoutStatus.request, status: 400, code: "missing_field")
            try await expectRejection(client, .json("/trustpay/risk-control", body: Array("{\"cardPrefix\":\"411111\"}".utf8)), status: 400, code: "missing_field")
            #expect(recorder.payments.isEmpty && recorder.cards.isEmpty)
        }
    }

    @Test func badOrMissingSignaturesAreUnauthorized() async throws {
        let recorder = HandlerRecorder()
        try await withWebhookTestServer(makeServer(recorder: recorder)) { server in
            let client = server.client
            try await expectRejection(client, Self.paid.unsigned.request, status: 401, code: "missing_signature")
            try await expectRejection(client, Self.paid.tampered { $0["sign"] = "" }.request, status: 401, code: "missing_signature")
            let raised = Self.paid.tampered { $0["paid_amount"] = .number("1060") }
            try await expectRejection(client, raised.request, status: 401, code: "invalid_signature")
            try await expectRejection(client, Self.paid.signed(with: "not-the-secret").request, status: 401, code: "invalid_signature")
            try await expectRejection(client, Self.paid.tampered { $0["sign"] = "xyz" }.request, status: 401, code: "invalid_signature")
            let card = factory.card(orderNo: "C", status: 1).signed(with: "not-the-secret")
            try await expectRejection(client, card.request, status: 401, code: "invalid_signature")
            #expect(recorder.payments.isEmpty && recorder.cards.isEmpty)
            #expect(try await server.storedEvents(EventFilter()).isEmpty)
        }
    }

    @Test func unknownMerchantsAreForbidden() async throws {
        let recorder = HandlerRecorder()
        try await withWebhookTestServer(makeServer(recorder: recorder)) { server in
            let stranger = CallbackFactory(merchant: otherMerchant).payment(orderNo: "X", status: .unliquidated)
            try await expectRejection(server.client, stranger.request, status: 403, code: "unknown_merchant")
        }
    }

    @Test func otherContentTypesAreUnsupported() async throws {
        let recorder = HandlerRecorder()
        try await withWebhookTestServer(makeServer(recorder: recorder)) { server in
            let client = server.client
            for type in ["text/plain", "application/x-www-form-urlencoded", "application/json; charset=latin1", nil] {
                try await expectRejection(client, Self.paid.request.contentType(type), status: 415, code: "unsupported_media_type")
            }
            let risk = factory.riskControl(orderID: "R").contentType("text/plain")
            try await expectRejection(client, risk, status: 415, code: "unsupported_media_type")
            // Parameters and case are tolerated.
            #expect(try await client.send(Self.paid.request.contentType("Application/JSON; charset=UTF-8")).isAcknowledgement)
        }
    }

    @Test func anUnavailableStoreIsServiceUnavailableAndNothingIsAcknowledged() async throws {
        let recorder = HandlerRecorder()
        let store = OutageStore()
        try await withWebhookTestServer(makeServer(store: store, recorder: recorder)) { server in
            #expect(try await server.client.get("/readyz").status == 200)
            store.setDown(true)
            try await expectRejection(server.client, Self.paid.request, status: 503, code: "store_unavailable")
            try await expectRejection(server.client, TestRequest(method: .get, path: "/readyz"), status: 503, code: "store_unavailable")
            #expect(try await server.client.get("/healthz").status == 200)
            store.setDown(false)
            #expect(try await server.client.deliver(Self.paid).isAcknowledgement)
            let events = try await recorder.waitForPayments(1)
            #expect(events.count == 1 && events[0].callback.orderNo == "REJ-1")
        }
    }

    @Test func oversizedBodiesAndUnknownRoutesAreRefused() async throws {
        let recorder = HandlerRecorder()
        // The one body limit is the HTTP server's: the pipeline behind it sees no larger body.
        try await withWebhookTestServer(makeServer(recorder: recorder), http: { $0.limits.maxBodyBytes = 512 }) { server in
            let big = Self.paid.resigned { $0["note"] = .string(String(repeating: "x", count: 600)) }
            try await expectRejection(server.client, big.request, status: 413, code: "payload_too_large")
            #expect(try await server.client.get("/trustpay/payment").status == 405)
            #expect(try await server.client.get("/nope").status == 404)
        }
    }
}
