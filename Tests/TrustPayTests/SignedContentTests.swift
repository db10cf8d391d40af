import CallbackReshaping
import Testing
@testable import TrustPay

/// Each test starts from a genuine body signed by the shared rule and
/// reshapes it without re-signing, as someone holding one callback could.
/// Where the signature still verifies, that is checked first: the attack is
/// real, and only the signed-content rules stop it.
@Suite("Signed means unchanged: reshaped bodies are refused or the same event")
struct SignedContentTests {
    let check = SameEventCheck()
    let scheme = TrustPaySignature()

    static let refundBody: JSONObject = [
        "type": 0, "merchant_id": .integer(GenuineCallbacks.merchantID), "order_no": "ORD-1001", "order_amount": 106,
        "refund_amount": .number("50.5"), "merchant_refund_no": ["RF-1", "RF-2"], "status": 8, "reason": "refund",
    ]
    static let payinBody: JSONObject = [
        "type": 0, "merchant_id": .integer(GenuineCallbacks.merchantID), "order_no": "ORD-1", "order_amount": 106,
        "paid_amount": 106, "balance_amount": 100, "fee": 6, "pay_time": "2025-08-05 16:43:55", "status": 5,
        "reason": "success",
    ]
    static let cardBody: JSONObject = [
        "order_no": "v10101010101", "status": 4, "card_id": 57, "amount": 35, "fee": 11, "balance": 24,
        "type": "OPEN_CARD", "reason": "",
    ]

    /// The genuine callback and its text, to be edited as text.
    func genuine(_ fields: JSONObject, _ route: GenuineCallbacks.Callback.Route = .payment, form: NumberForm = .asTransmitted)
        -> (GenuineCallbacks.Callback, String)
    {
        let callback = GenuineCallbacks.signed(fields, route: route, form: form)
        return (callback, String(decoding: callback.body, as: UTF8.self))
    }

    func signatureVerifies(_ text: String) -> Bool {
        scheme.verify(body: Array(text.utf8), secrets: [GenuineCallbacks.secret]).isValid
    }

    func outcome(_ text: String, against original: GenuineCallbacks.Callback) -> SameEventCheck.Outcome {
        check.check(Array(text.utf8), against: original)
    }

    func refusal(_ text: String, on route: GenuineCallbacks.Callback.Route) -> String? {
        if case .failure(let refusal) = check.meaning(of: Array(text.utf8), on: route) { refusal.code } else { nil }
    }

    // MARK: the four reported bodies

    @Test("a refund list re-sent as a JSON string holding the same text is refused, not a second event")
    func refundListAsString() {
        let (original, text) = genuine(Self.refundBody)
        let reshaped = text.replacingOccurrences(of: #"["RF-1","RF-2"]"#, with: #""[\"RF-1\",\"RF-2\"]""#)
        #expect(reshaped != text && signatureVerifies(reshaped))
        #expect(refusal(reshaped, on: .payment) == "invalid_field")
        #expect(outcome(reshaped, against: original) == .refused(code: "invalid_field"))
    }

    @Test("a payin with \"type\":0 removed, posted to the card route, is refused as not a card callback")
    func payinOnTheCardRoute() {
        let (original, text) = genuine(Self.payinBody)
        let reshaped = text.replacingOccurrences(of: #""type":0,"#, with: "")
        #expect(reshaped != text && signatureVerifies(reshaped))
        #expect(refusal(reshaped, on: .card) == "not_a_card_callback")
        #expect(outcome(reshaped, against: original) == .sameEvent)  // on the payment route it is the same payin
    }

    @Test("a field name carrying the separators, beside emptied real fields, is refused")
    func separatorsInAName() {
        var fields = Self.payinBody
        fields["type"] = 1
        fields["status"] = 2
        let (original, text) = genuine(fields)
        let reshaped = text.replacingOccurrences(of: #""type":1,"#, with: #""type":0,"#)
            .replacingOccurrences(of: #""status":2,"#, with: #""status":0,"status=2&type":"1","#)
        #expect(reshaped != text && signatureVerifies(reshaped))
        #expect(refusal(reshaped, on: .payment) == "invalid_field_name")
        #expect(outcome(reshaped, against: original) == .refused(code: "invalid_field_name"))
    }

    @Test("a signed field moved into a crafted key, the real one sent as 0, is refused")
    func fieldMovedIntoAKey() {
        let (original, text) = genuine(Self.payinBody)
        let reshaped = text.replacingOccurrences(of: #""order_no":"ORD-1","#, with: #""order_amount=106&order_no":"ORD-1","order_no":0,"#)
            .replacingOccurrences(of: #""order_amount":106,"#, with: "")
        #expect(reshaped != text && signatureVerifies(reshaped))
        #expect(refusal(reshaped, on: .payment) == "invalid_field_name")
        #expect(outcome(reshaped, against: original) == .refused(code: "invalid_field_name"))
    }

    // MARK: the rest of the class

    @Test("identifiers and codes sent as strings are refused; amounts as strings are the same event")
    func numbersAsStrings() {
        let (original, text) = genuine(Self.payinBody)
        for (from, to) in [(#""status":5"#, #""status":"5""#), (#""merchant_id":8820250900009"#, #""merchant_id":"8820250900009""#)] {
            let reshaped = text.replacingOccurrences(of: from, with: to)
            #expect(signatureVerifies(reshaped))
            #expect(outcome(reshaped, against: original) == .refused(code: "invalid_field"), "\(to)")
        }
        let quotedAmount = text.replacingOccurrences(of: #""order_amount":106"#, with: #""order_amount":"106""#)
        #expect(outcome(quotedAmount, against: original) == .sameEvent)

        var numeric = Self.payinBody
        numeric["order_no"] = "1001"
        let (numericOriginal, numericText) = genuine(numeric)
        let unquoted = numericText.replacingOccurrences(of: #""order_no":"1001""#, with: #""order_no":1001"#)
        #expect(signatureVerifies(unquoted))
        #expect(outcome(unquoted, against: numericOriginal) == .refused(code: "invalid_field"))
    }

    @Test("identifiers in other number forms are refused in every form; amounts in other forms are the same event")
    func identifierNumberForms() {
        for form in NumberForm.allCases {
            let (original, text) = genuine(Self.payinBody, form: form)
            for (from, to) in [(#""merchant_id":8820250900009"#, #""merchant_id":8820250900009.00"#),
                               (#""merchant_id":8820250900009"#, #""merchant_id":8820250900009.0"#),
                               (#""status":5"#, #""status":5.0"#), (#""status":5"#, #""status":5e0"#)] {
                let reshaped = text.replacingOccurrences(of: from, with: to)
                guard case .refused = outcome(reshaped, against: original) else {
                    Issue.record("\(to) in form \(form) was accepted")
                    continue
                }
            }
        }
        let (cardOriginal, cardText) = genuine(Self.cardBody, .card, form: .shortest)
        #expect(outcome(cardText.replacingOccurrences(of: #""card_id":57"#, with: #""card_id":57.00"#), against: cardOriginal)
                != .sameEvent)
        let (twoDecimals, twoDecimalsText) = genuine(Self.payinBody, form: .twoDecimals)
        let padded = twoDecimalsText.replacingOccurrences(of: #""order_amount":106"#, with: #""order_amount":106.00"#)
        #expect(padded != twoDecimalsText && outcome(padded, against: twoDecimals) == .sameEvent)
    }

    @Test("a string value that splices &name=value into the signed text is refused, escaped or not")
    func splicedValues() {
        let (original, text) = genuine(Self.payinBody)
        for ampersand in ["&", #"\u0026"#] {
            let reshaped = text.replacingOccurrences(of: #""order_no":"ORD-1""#, with: #""order_no":"ORD-1\#(ampersand)paid_amount=106""#)
                .replacingOccurrences(of: #""paid_amount":106,"#, with: "")
            #expect(signatureVerifies(reshaped))
            #expect(outcome(reshaped, against: original) == .refused(code: "spliced_value"))
        }
        // Nested text counts too: an unknown array of strings is written as its JSON.
        var nested = Self.payinBody
        nested["notes"] = ["a&status=2"]
        #expect(refusal(genuine(nested).1, on: .payment) == "spliced_value")
    }

    @Test("explicit empty values carry nothing: identifying ones are refused, others are the same event")
    func explicitEmpties() {
        let (original, text) = genuine(Self.payinBody)
        for empty in ["null", #""""#, "0", "false", "[]", "{}"] {
            let noStatus = text.replacingOccurrences(of: #""status":5"#, with: #""status":\#(empty)"#)
            #expect(refusal(noStatus, on: .payment) == "missing_field", "status \(empty)")
            let extraEmpty = text.replacingOccurrences(of: #""reason":"success""#, with: #""reason":"success","merchant_refund_no":\#(empty),"orderNo":\#(empty)"#)
            #expect(outcome(extraEmpty, against: original) == .sameEvent, "\(empty)")
        }
        let noType = text.replacingOccurrences(of: #""type":0,"#, with: "")
        #expect(outcome(noType, against: original) == .sameEvent)
        let typeNull = text.replacingOccurrences(of: #""type":0"#, with: #""type":null"#)
        #expect(outcome(typeNull, against: original) == .sameEvent)

        var zeroFee = Self.payinBody
        zeroFee["fee"] = 0
        let (zeroOriginal, zeroText) = genuine(zeroFee)
        #expect(outcome(zeroText.replacingOccurrences(of: #""fee":0,"#, with: ""), against: zeroOriginal) == .sameEvent)
        #expect(outcome(zeroText.replacingOccurrences(of: #""fee":0,"#, with: #""fee":0.00,"#), against: zeroOriginal) == .sameEvent)

        var noOrder = Self.payinBody
        noOrder["order_no"] = ""
        #expect(refusal(genuine(noOrder).1, on: .payment) == "missing_field")
        #expect(refusal(genuine(Self.cardBody.merging(["type": ""])).1, on: .card) == "missing_field")
    }

    @Test("escapes in names and values and duplicate spellings decode to the same event or are refused")
    func escapesAndSpellings() {
        let (original, text) = genuine(Self.payinBody)
        let escapedName = text.replacingOccurrences(of: #""order_no""#, with: #""order\u005fno""#)
        #expect(outcome(escapedName, against: original) == .sameEvent)
        let escapedValue = text.replacingOccurrences(of: #""ORD-1""#, with: #""\u004fRD\u002d1""#)
        #expect(outcome(escapedValue, against: original) == .sameEvent)
        let nonASCIIName = text.replacingOccurrences(of: #""reason""#, with: #""re\u0455son""#)
        #expect(outcome(nonASCIIName, against: original) == .refused(code: "invalid_field_name"))
        let twice = text.replacingOccurrences(of: #""status":5"#, with: #""status":5,"status":5"#)
        #expect(outcome(twice, against: original) == .refused(code: "invalid_json"))
        let escapedTwice = text.replacingOccurrences(of: #""status":5"#, with: #""status":5,"st\u0061tus":5"#)
        #expect(outcome(escapedTwice, against: original) == .refused(code: "invalid_json"))
        let otherSpelling = text.replacingOccurrences(of: #""order_no":"ORD-1""#, with: #""order_no":"ORD-1","orderNo":"ORD-2""#)
        #expect(outcome(otherSpelling, against: original) == .refused(code: "conflicting_fields"))
    }

    @Test("whitespace, member order and upper-case hex are the same event")
    func harmlessReshapings() throws {
        let (original, text) = genuine(Self.payinBody)
        let spaced = text.replacingOccurrences(of: #",""#, with: " ,\n\t\"").replacingOccurrences(of: #"":"#, with: "\" : ")
        #expect(outcome(spaced, against: original) == .sameEvent)
        let reordered = try JSONObject(original.fields.reversed().map { ($0.key, $0.value) })
        #expect(outcome(reordered.compactJSON, against: original) == .sameEvent)
        let sign = try #require(original.fields["sign"]?.stringValue)
        #expect(outcome(text.replacingOccurrences(of: sign, with: sign.uppercased()), against: original) == .sameEvent)
    }

    @Test("a card body naming another merchant is refused as a mismatch; its own merchant is accepted")
    func cardMerchantMustBeTheRoutes() {
        var fields = Self.cardBody
        fields["merchant_id"] = 42
        #expect(refusal(genuine(fields, .card).1, on: .card) == "merchant_mismatch")
        fields["merchant_id"] = .integer(GenuineCallbacks.merchantID)
        #expect(refusal(genuine(fields, .card).1, on: .card) == nil)
    }

    @Test("a body that verifies but does not write back into its signed text is ambiguous")
    func roundTripRefusesWhatItCannotReproduce() {
        for (field, value) in [("order_amount", JSONValue.number("1.06e2")), ("fee", .string("-0")), ("fee", .string("+6"))] {
            var fields = Self.payinBody
            fields[field] = value
            let signed = GenuineCallbacks.signed(fields, route: .payment)
            #expect(signatureVerifies(String(decoding: signed.body, as: UTF8.self)))
            let code = refusal(String(decoding: signed.body, as: UTF8.self), on: .payment)
            #expect(code == (value == .string("+6") ? "invalid_field" : "ambiguous_body"), "\(field) \(value)")
        }
    }

    @Test("every shared signature vector still verifies or fails as it says, and every valid payment vector is accepted")
    func vectorsStillAgree() throws {
        for vector in try SignatureVector.all() {
            let verdict = scheme.verify(body: Array(vector.body.utf8), secrets: [vector.secret])
            #expect(verdict.isValid == vector.valid, "\(vector.name)")
            guard vector.valid else { continue }
            let body = Array(vector.body.utf8)
            let isCard = vector.body.contains("card_id")
            let keys = MerchantKeys(merchantID: isCard ? 1 : (try JSONValue(parsing: body).objectValue?["merchant_id"]?
                .numberLiteral).flatMap { Int64($0) } ?? 0, secrets: [vector.secret])
            let authenticator = CallbackAuthenticator()
            #expect(throws: Never.self, "\(vector.name)") {
                if isCard {
                    _ = try authenticator.card(body: body, merchant: keys)
                } else {
                    _ = try authenticator.payment(body: body) { _ in keys }
                }
            }
        }
    }
}

extension JSONObject {
    fileprivate func merging(_ other: JSONObject) -> JSONObject {
        var merged = self
        for member in other { merged[member.key] = member.value }
        return merged
    }
}
