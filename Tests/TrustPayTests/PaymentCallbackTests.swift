import Testing
@testable import TrustPay

private func decode(_ text: String) throws(CallbackDecodingError) -> PaymentCallback {
    try PaymentCallback(body: Array(text.utf8))
}

private func decodingError(_ text: String) -> CallbackDecodingError? {
    do {
        _ = try decode(text)
        return nil
    } catch {
        return error
    }
}

/// A payment body with the given members, as compact JSON.
private func body(_ fields: JSONObject) -> String { fields.compactJSON }

private let base: JSONObject = [
    "type": 0, "merchant_id": 8_820_250_900_009, "order_no": "ORD-1", "order_amount": 106, "status": 5,
    "reason": "success",
]

@Suite("Payment callback decoding")
struct PaymentCallbackTests {
    @Test("decodes the documented payin success example")
    func documentedExample() throws {
        let text = #"{"type":0,"merchant_id":1,"order_no":"payout0003","order_amount":106,"paid_amount":106,"balance_amount":100,"fee":6,"pay_time":"2025-08-05 16:43:55","status":5,"reason":"success","sign":"abc"}"#
        let callback = try decode(text)
        #expect(callback.type == .payin)
        #expect(callback.merchantID == 1)
        #expect(callback.orderNo == "payout0003")
        #expect(callback.status == .unliquidated)
        #expect(callback.reason == "success")
        #expect(callback.payTime == "2025-08-05 16:43:55")
        #expect(callback.orderAmount == Amount("106"))
        #expect(callback.paidAmount == Amount("106"))
        #expect(callback.balanceAmount == Amount("100"))
        #expect(callback.fee == Amount("6"))
        #expect(callback.refundAmount == nil)
        #expect(callback.merchantRefundNos == [])
        #expect(callback.sign == "abc")
        #expect(callback.extra.isEmpty)
        #expect(callback.rawBody == Array(text.utf8))
        #expect(callback.fields == (try JSONValue(parsing: Array(text.utf8))).objectValue)
    }

    @Test("fields read past the 64th member are known, and the unread ones past it are extra")
    func fieldsPastTheSixtyFourthMember() throws {
        // The decoder keeps which members it read in a bit per member for
        // the first 64 and in flags past them: a callback with many unknown
        // fields reads its documented ones from both.
        var fields: JSONObject = ["type": 0, "merchant_id": 8_820_250_900_009]
        for index in 0..<70 { fields["x\(index)"] = .string("v\(index)") }
        fields["order_no"] = "ORD-1"
        fields["order_amount"] = 106
        fields["status"] = 5
        fields["reason"] = "success"
        fields["x70"] = "v70"
        let callback = try decode(body(fields))
        #expect(callback.orderNo == "ORD-1")
        #expect(callback.status == .unliquidated)
        #expect(callback.extra.keys == (0...70).map { "x\($0)" })
        #expect(callback.extra["order_no"] == nil)
    }

    @Test("decodes every documented status of payins and payouts",
          arguments: [OrderType.payin, .payout],
          [(1, OrderStatus.pending, "pending"), (2, .paid, "paid"), (3, .failed, "failed"), (4, .timedOut, "timed out"),
           (5, .unliquidated, "unliquidated"), (6, .statement, "statement"), (7, .refunded, "refunded"),
           (8, .partiallyRefunded, "partially refunded"), (9, .refunding, "refunding")])
    func everyStatus(_ type: OrderType, _ status: (code: Int, value: OrderStatus, name: String)) throws {
        var fields = base
        fields["type"] = .integer(type.rawValue)
        fields["status"] = .integer(status.code)
        if status.code == 3 || status.code == 4 {
            fields["reason"] = "declined"  // failures carry only order_amount
        } else if (7...9).contains(status.code) {
            fields["refund_amount"] = .number("50.5")
            fields["merchant_refund_no"] = ["RF-1", "RF-2"]
        } else {
            fields["paid_amount"] = 106
            fields["fee"] = .number("6.00")
            fields["balance_amount"] = type == .payin ? 100 : 112
            fields["pay_time"] = "2025-08-05 16:43:55"
        }
        let callback = try decode(body(fields))
        #expect(callback.type == type)
        #expect(callback.status == status.value)
        #expect(callback.status.code == status.code)
        #expect(callback.status.name == status.name)
        if (7...9).contains(status.code) {
            #expect(callback.merchantRefundNos == ["RF-1", "RF-2"])
            #expect(callback.refundAmount?.description == "50.5")
            #expect(callback.paidAmount == nil && callback.fee == nil && callback.payTime == nil)
        }
    }

    @Test("accepts the older camelCase names")
    func camelCase() throws {
        let callback = try decode(
            #"{"type":0,"merchantId":42,"orderNo":"O-9","orderAmount":"20.00","paidAmount":20,"balanceAmount":17.5,"refundAmount":1,"payTime":"2025-01-01 00:00:00","merchantRefundNo":["RF-9"],"fee":2.50,"status":7,"reason":""}"#)
        #expect(callback.merchantID == 42)
        #expect(callback.orderNo == "O-9")
        #expect(callback.orderAmount.description == "20.00")
        #expect(callback.paidAmount == Amount("20"))
        #expect(callback.balanceAmount == Amount("17.5"))
        #expect(callback.refundAmount == Amount("1"))
        #expect(callback.payTime == "2025-01-01 00:00:00")
        #expect(callback.merchantRefundNos == ["RF-9"])
        #expect(callback.extra.isEmpty)
    }

    @Test("both spellings may appear if they agree")
    func agreeingSpellings() throws {
        var fields = base
        fields["orderNo"] = "ORD-1"
        fields["orderAmount"] = .number("106.00")
        #expect(try decode(body(fields)).orderAmount == Amount("106"))
    }

    @Test("both spellings with different values are refused")
    func conflictingSpellings() {
        var fields = base
        fields["orderNo"] = "ORD-2"
        #expect(decodingError(body(fields)) == .conflictingSpellings("order_no", "orderNo"))
        fields = base
        fields["merchantId"] = 1
        #expect(decodingError(body(fields)) == .conflictingSpellings("merchant_id", "merchantId"))
    }

    @Test("unknown fields are kept in order as extra; known ones and sign are not")
    func unknownFieldsKept() throws {
        var fields = base
        fields["zeta"] = [1, 2]
        fields["sign"] = "0123"
        fields["alpha"] = nil
        fields["alpha"] = "x"
        let callback = try decode(body(fields))
        #expect(callback.extra == ["zeta": [1, 2], "alpha": "x"])
    }

    @Test("unknown status and type codes are kept, not rejected")
    func unknownCodes() throws {
        var fields = base
        fields["type"] = 7
        fields["status"] = 42
        let callback = try decode(body(fields))
        #expect(callback.type == .unknown(7))
        #expect(callback.type.rawValue == 7)
        #expect(callback.status == .unknown(42))
        #expect(callback.status.code == 42)
        #expect(callback.status.name == "unknown")
    }

    @Test("codes compare by value however the case was built")
    func codeNormalisation() {
        #expect(OrderType.unknown(0) == .payin)
        #expect(OrderType(rawValue: 1) == .payout)
        #expect(OrderStatus.unknown(5) == .unliquidated)
        #expect(Set([OrderStatus.unknown(9), .refunding]).count == 1)
        #expect(OrderStatus.timedOut.description == "4 (timed out)")
    }

    @Test("a missing or empty required field is named",
          arguments: ["merchant_id", "order_no", "status", "order_amount"])
    func missingField(_ name: String) {
        for replacement: JSONValue? in [nil, .null, "", 0, .number("0.00"), false, [], [:]] {
            var fields = base
            fields[name] = replacement
            #expect(decodingError(body(fields)) == .missingField(name))
        }
    }

    @Test("reason may be absent; pay_time may be empty")
    func optionalText() throws {
        var fields = base
        fields["reason"] = nil
        fields["pay_time"] = ""
        let callback = try decode(body(fields))
        #expect(callback.reason == "")
        #expect(callback.payTime == nil)
    }

    @Test("an absent or empty type is a payin, as its unsigned zero is")
    func absentTypeIsPayin() throws {
        for replacement: JSONValue? in [nil, .null, "", 0, false] {
            var fields = base
            fields["type"] = replacement
            #expect(try decode(body(fields)).type == .payin)
        }
    }

    @Test("identifiers and codes are JSON integers: numeric strings and other number forms are refused",
          arguments: [
              ("merchant_id", JSONValue.string("8820250900009"), "a 64-bit integer"),
              ("merchant_id", .number("8820250900009.0"), "a 64-bit integer"),
              ("status", "2", "an integer"),
              ("type", "1", "an integer"),
              ("order_no", 1001, "a string"),
          ] as [(String, JSONValue, String)])
    func numericStringsRefused(_ example: (name: String, value: JSONValue, expected: String)) {
        var fields = base
        fields[example.name] = example.value
        #expect(decodingError(body(fields)) == .wrongType(field: example.name, expected: example.expected))
    }

    @Test("pay_time must be the documented YYYY-MM-DD HH:MM:SS",
          arguments: ["2025-08-05T16:43:55", "2025-08-05 16:43", "2025-13-05 16:43:55", "2025-08-05 24:00:00",
                      "２０２５-08-05 16:43:55", "2025-08-05 16:43:55Z"])
    func payTimeForm(_ text: String) throws {
        var fields = base
        fields["pay_time"] = .string(text)
        #expect(decodingError(body(fields))
                == .wrongType(field: "pay_time", expected: "a time written YYYY-MM-DD HH:MM:SS"))
        fields["pay_time"] = "2025-08-05 16:43:55"
        #expect(try decode(body(fields)).payTime == "2025-08-05 16:43:55")
    }

    @Test("values of the wrong type are refused with the expected type", arguments: [
        ("status", JSONValue.string("paid"), "an integer"),
        ("status", .number("5.0"), "an integer"),
        ("type", true, "an integer"),
        ("merchant_id", .number("9223372036854775808"), "a 64-bit integer"),
        ("merchant_id", .number("1e3"), "a 64-bit integer"),
        ("order_amount", "abc", "a decimal amount"),
        ("order_amount", .number("1e999"), "a decimal amount"),
        ("fee", [1], "a decimal amount"),
        ("order_no", true, "a string"),
        ("order_no", ["ORD-1"], "a string"),
        ("reason", 1, "a string"),
        ("merchant_refund_no", [1], "an array of strings"),
        ("merchant_refund_no", ["a": "b"], "an array of strings"),
        ("merchant_refund_no", #"["RF-1"]"#, "an array of strings"),
        ("merchant_refund_no", "RF-1", "an array of strings"),
    ] as [(String, JSONValue, String)])
    func wrongTypes(_ example: (name: String, value: JSONValue, expected: String)) {
        var fields = base
        fields[example.name] = example.value
        #expect(decodingError(body(fields)) == .wrongType(field: example.name, expected: example.expected))
    }

    @Test("a body that is not a JSON object is refused")
    func notAnObject() {
        #expect(decodingError("[]") == .notAnObject)
        guard case .invalidJSON(let error) = decodingError(#"{"type":0"#) else {
            Issue.record("expected invalidJSON")
            return
        }
        #expect(error.reason == .unexpectedEndOfInput(expected: "',' or '}'"))
    }

    @Test("every payment vector of the fixture decodes")
    func fixtureBodiesDecode() throws {
        for vector in try SignatureVector.all() where !vector.body.contains("card_id") {
            #expect(throws: Never.self, "\(vector.name)") { try decode(vector.body) }
        }
    }

    @Test("the log description shows the event without sign, raw body or unknown values")
    func logSafeDescription() throws {
        var fields = base
        fields["reason"] = "line one\nFORGED log line"
        fields["sign"] = "db30bc58ae59d9d0fb211f40555b0db8"
        fields["customer_email"] = "someone@example.com"
        let text = try decode(body(fields)).description
        #expect(text.contains("payin \"ORD-1\" of merchant 8820250900009"))
        #expect(text.contains("status 5 (unliquidated)"))
        #expect(text.contains("order_amount 106"))
        #expect(!text.contains("\n"))
        #expect(!text.contains("db30bc58"))
        #expect(!text.contains("someone@example.com"))
        #expect(text.contains("\"customer_email\""))
    }

    @Test("error messages name the field and what was expected")
    func errorMessages() {
        #expect(CallbackDecodingError.missingField("order_no").description == #"the required field "order_no" is missing or empty"#)
        #expect(CallbackDecodingError.wrongType(field: "status", expected: "an integer").description
                == #"the field "status" should be an integer"#)
        #expect(CallbackDecodingError.conflictingSpellings("order_no", "orderNo").description
                == #"the fields "order_no" and "orderNo" are both present with different values"#)
    }
}
