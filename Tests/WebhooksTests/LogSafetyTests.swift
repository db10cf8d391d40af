import Inbox
import Logging
import Synchronization
import Testing
import TestSupport
import TrustPay
import TrustPayWebhooksTesting
import Webhooks

/// Log lines, at every level, carry ids and statuses but never secrets,
/// signatures or card data.
@Suite struct LogSafetyTests {
    @Test func noSecretSignatureOrCardDataIsLogged() async throws {
        let capture = LogCapture()
        let recorder = HandlerRecorder()
        var server = makeServer(recorder: recorder) { server in
            server.onRiskControl { _ in .allow }
            server.onPayment { event in
                if event.attempt.number == 1 { throw HandlerError(text: "card 4111111111111111 declined") }
            }
        }
        server.logger = capture.logger
        let paid = factory.payment(orderNo: "LOG-1", status: .unliquidated)
        try await withWebhookTestServer(server) { server in
            #expect(try await server.client.deliver(paid).isAcknowledgement)
            #expect(try await server.client.deliver(paid.signed(with: "not-our-secret-42")).status == 401)
            #expect(try await server.client.deliver(paid.resigned { $0["fee"] = .number("7") }).isAcknowledgement)
            let risk = factory.riskControl(orderID: "RISK-1", cardPrefix: "411111", cardSuffix: "1111", cardHolderName: "Jane Q Holder")
            #expect(try await server.client.send(risk).status == 200)
            _ = try await recorder.waitForPayments(2)
            try await eventually("the retry to complete") {
                try await server.storedEvents(EventFilter(states: [.completed])).count == 1
            }
        }
        let lines = capture.lines.withLock { $0 }
        #expect(lines.contains { $0.contains("order_no=LOG-1") && $0.contains("merchant_id=\(merchant.id)") })
        #expect(lines.contains { $0.contains("order_no=RISK-1") })
        for forbidden in [merchant.secret, "not-our-secret-42", paid.sign, "Jane", "Holder", "411111", "4111111111111111"] {
            #expect(!lines.contains { $0.contains(forbidden) }, "\"\(forbidden)\" was logged")
        }
    }
}

@Suite struct LogTextTests {
    @Test func lineBreaksAndControlsAreEscapedAndOtherTextKept() {
        #expect(LogText.escaped("ORD-1 é 注文") == "ORD-1 é 注文")
        #expect(LogText.escaped("a\nb\rc\td\u{1B}[31m\u{7F}\u{85}\u{2028}\u{2029}")
            == #"a\nb\rc\td\u001b[31m\u007f\u0085\u2028\u2029"#)
        #expect(!LogText.escaped("x\ny").contains("\n"))
    }
}
