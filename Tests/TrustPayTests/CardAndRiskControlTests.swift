import Testing
@testable import TrustPay

private func card(_ text: String) throws(CallbackDecodingError) -> CardCallback {
    try CardCallback(body: Array(text.utf8))
}

private func risk(_ text: String) throws(CallbackDecodingError) -> RiskControlRequest {
    try RiskControlRequest(body: Array(text.utf8))
}

@Suite("Card callback decoding")
struct CardCallbackTests {
    @Test("decodes the documented open-card example")
    func documentedExample() throws {
        let callback = try card(
            #"{"order_no":"v10101010101","status":4,"card_id":57,"amount":35,"fee":11,"balance":24,"type":"OPEN_CARD","reason":"","sign":"x"}"#)
        #expect(callback.orderNo == "v10101010101")
        #expect(callback.status == 4)
        #expect(callback.cardID == 57)
        #expect(callback.amount == Amount("35"))
        #expect(callback.fee == Amount("11"))
        #expect(callback.balance == Amount("24"))
        #expect(callback.kind == .openCard)
        #expect(callback.reason == "")
        #expect(callback.sign == "x")
        #expect(callback.extra.isEmpty)
    }

    @Test("maps the card callback type", arguments: [
        ("OPEN_CARD", CardCallbackKind.openCard), ("CARD_CHARGE", .recharge), ("CARD_FREEZE", .other("CARD_FREEZE")),
        ("open_card", .other("open_card")),
    ])
    func kinds(_ raw: String, _ kind: CardCallbackKind) throws {
        let callback = try card(#"{"order_no":"c1","status":1,"type":"\#(raw)"}"#)
        #expect(callback.kind == kind)
        #expect(callback.kind.rawValue == raw)
    }

    @Test("keeps any status code and unknown fields")
    func unknownStatus() throws {
        let callback = try card(#"{"order_no":"c1","status":77,"cardId":9,"type":"X","note":"n"}"#)
        #expect(callback.status == 77)
        #expect(callback.cardID == 9)
        #expect(callback.kind == .other("X"))
        #expect(callback.extra == ["note": "n"])
    }

    @Test("requires an order number, a status and a non-empty type")
    func required() {
        #expect(throws: CallbackDecodingError.missingField("order_no")) { try card(#"{"status":1,"type":"X"}"#) }
        #expect(throws: CallbackDecodingError.missingField("status")) { try card(#"{"order_no":"c","type":"X"}"#) }
        #expect(throws: CallbackDecodingError.missingField("status")) { try card(#"{"order_no":"c","status":0,"type":"X"}"#) }
        for type in [#""""#, "null", "false", "[]"] {
            #expect(throws: CallbackDecodingError.missingField("type")) { try card(#"{"order_no":"c","status":1,"type":\#(type)}"#) }
        }
        #expect(throws: CallbackDecodingError.wrongType(field: "card_id", expected: "a 64-bit integer")) {
            try card(#"{"order_no":"c","status":1,"type":"X","card_id":"57"}"#)
        }
    }

    @Test("a body shaped like a payment is not a card callback")
    func paymentShapeRefused() {
        #expect(throws: CallbackDecodingError.notACardCallback(reason: #"its "type" is a number, as in a payment callback"#)) {
            try card(#"{"order_no":"c","status":1,"type":1}"#)
        }
        #expect(throws: CallbackDecodingError.notACardCallback(
            reason: "it has a merchant_id and an order_amount, as a payment callback has")) {
            try card(#"{"order_no":"c","status":5,"type":"OPEN_CARD","merchant_id":7,"order_amount":106}"#)
        }
        #expect(throws: Never.self) {
            try card(#"{"order_no":"c","status":5,"type":"OPEN_CARD","merchant_id":7,"amount":106}"#)
        }
    }

    @Test("the log description leaves out the sign")
    func description() throws {
        let text = try card(#"{"order_no":"c1","status":4,"card_id":57,"type":"OPEN_CARD","sign":"feedbeef"}"#).description
        #expect(text == #"CardCallback(OPEN_CARD "c1", status 4, card 57)"#)
    }
}

@Suite("Risk control request decoding")
struct RiskControlRequestTests {
    let text = #"{"orderId":"R-1","cardPrefix":"411111","cardSuffix":"1234","cardHolderName":"John Ronald Smith"}"#

    @Test("decodes the documented fields and keeps the raw body")
    func decodes() throws {
        let request = try risk(text)
        #expect(request.orderID == "R-1")
        #expect(request.cardPrefix == "411111")
        #expect(request.cardSuffix == "1234")
        #expect(request.cardHolderName == "John Ronald Smith")
        #expect(request.rawBody == Array(text.utf8))
        #expect(request.hasWellFormedCardDigits)
    }

    @Test("no textual form shows the holder's name")
    func masksName() throws {
        let request = try risk(text)
        #expect(request.maskedCardHolderName == "J*** R*** S***")
        var dumped = ""
        dump(request, to: &dumped)
        for output in [request.description, request.debugDescription, String(reflecting: request), "\(request)", dumped] {
            #expect(!output.contains("John"), "\(output)")
            #expect(!output.contains("Smith"), "\(output)")
        }
        #expect(request.description == #"RiskControlRequest(order "R-1", card "411111…1234", holder "J*** R*** S***")"#)
    }

    @Test("is lenient about card digits and numeric ids, and says whether the digits are well formed")
    func lenient() throws {
        let request = try risk(#"{"orderId":12345,"cardPrefix":"4111","cardHolderName":""}"#)
        #expect(request.orderID == "12345")
        #expect(request.cardPrefix == "4111")
        #expect(request.cardSuffix == "")
        #expect(request.maskedCardHolderName == "")
        #expect(!request.hasWellFormedCardDigits)
    }

    @Test("requires an order id")
    func requiresOrderID() {
        #expect(throws: CallbackDecodingError.missingField("orderId")) { try risk(#"{"cardPrefix":"411111"}"#) }
    }
}
