import Testing
@testable import TrustPay

private func body(_ text: String) -> [UInt8] { Array(text.utf8) }

@Suite("Signature rules")
struct SignatureTests {
    let scheme = TrustPaySignature()

    @Test("MD5 through OpenSSL matches the RFC 1321 test suite")
    func md5KnownAnswers() {
        #expect(MD5.hex(MD5.digest([])) == "d41d8cd98f00b204e9800998ecf8427e")
        #expect(MD5.hex(MD5.digest(Array("abc".utf8))) == "900150983cd24fb0d6963f7d28e17f72")
        #expect(MD5.hex(MD5.digest(Array("message digest".utf8))) == "f96b697d7cb7938d525a2f31aaf161d0")
    }

    @Test("the canonical digest, hashed in pieces, is the digest of the joined canonical string",
          arguments: ["", "a=1", "order_no=A&fee=2.50"], ["", "s3cr\u{E9}t", "x"])
    func canonicalDigestInPieces(text: String, secret: String) {
        let joined = scheme.canonicalBytes(Array(text.utf8), secret: secret)
        #expect(MD5.canonicalDigest(signedText: Array(text.utf8), secret: secret) == MD5.digest(joined))
    }

    @Test("the text hashed up to its secret, continued with each secret, is the canonical digest; finalized alone, the content hash",
          arguments: ["", "a=1", "order_no=A&fee=2.50"])
    func canonicalPrefix(text: String) {
        let hashed = MD5.canonicalPrefix(signedText: Array(text.utf8))
        for secret in ["", "s3cr\u{E9}t", "x"] {
            let digest = MD5.digest(scheme.canonicalBytes(Array(text.utf8), secret: secret))
            #expect(MD5.matches(hashed, secret: secret, expected: digest))
            var wrong = digest
            wrong[15] ^= 1
            #expect(!MD5.matches(hashed, secret: secret, expected: wrong))
        }
        // The prefix is reused for the next secret: trying one must not change it.
        #expect(MD5.matches(hashed, secret: "x", expected: MD5.digest(scheme.canonicalBytes(Array(text.utf8), secret: "x"))))
        let contentHash = MD5.hex(MD5.digest(scheme.canonicalBytes(Array(text.utf8), secret: "")))
        #expect(SignedContent.contentHash(ofHashedText: hashed) == contentHash)
        #expect(SignedContent.contentHash(ofSignedText: Array(text.utf8), signature: scheme) == contentHash)
    }

    @Test("zero literals are found as before the byte-reading fast path",
          arguments: ["0", "-0", "0.00", "-0.000", "0e5", "0E-3", "-0.0e+7", "1", "-1", "9.99", "0.01", "-0.001",
                      "10", "0e", "--0", "--5", "-", "", "00", "-00.0", "5e-0", "0.0.0"])
    func zeroLiterals(literal: String) {
        // The check as it was: first digit after every leading `-`, then the full scan.
        func reference(_ text: String) -> Bool {
            var digits = text.utf8.drop { $0 == UInt8(ascii: "-") }.prefix(1).makeIterator()
            if let first = digits.next(), (UInt8(ascii: "1")...UInt8(ascii: "9")).contains(first) { return false }
            return NumberLiteral.withLayout(of: text) { bytes, layout in
                layout.integer.allSatisfy { bytes[$0] == 0x30 } && (layout.fraction ?? 0..<0).allSatisfy { bytes[$0] == 0x30 }
            } ?? false
        }
        #expect(NumberLiteral.isZero(literal) == reference(literal))
    }

    @Test("digests are compared over all sixteen bytes")
    func constantTimeComparison() {
        let a = [UInt8](repeating: 7, count: 16)
        var lastDiffers = a
        lastDiffers[15] ^= 1
        var firstDiffers = a
        firstDiffers[0] ^= 0x80
        #expect(MD5.constantTimeEqual(a, a))
        #expect(!MD5.constantTimeEqual(a, lastDiffers))
        #expect(!MD5.constantTimeEqual(a, firstDiffers))
        #expect(!MD5.constantTimeEqual(a, Array(a.prefix(15))))
    }

    @Test("empty values of every kind are left out, other values kept")
    func dropsEmptyValues() {
        let fields: JSONObject = [
            "null": nil, "empty": "", "zero": 0, "zero2": .number("0.00"), "zero3": .number("-0"),
            "zero4": .number("0e5"), "false": false, "noArray": [], "noObject": [:],
            "space": " ", "true": true, "small": .number("0.01"), "nulls": [nil], "nested": ["b": 1, "a": [2]],
        ]
        #expect(scheme.canonicalString(of: fields, secret: "S")
                == #"nested={"b":1,"a":[2]}&nulls=[null]&small=0.01&space= &true=true&secret=S"#)
    }

    @Test("keys are sorted by their UTF-8 bytes")
    func byteOrder() {
        let fields: JSONObject = ["a": 1, "é": 1, "_": 1, "Z": 1, "B": 1, "aa": 1, "A": 1]
        #expect(scheme.canonicalString(of: fields, secret: "S") == "A=1&B=1&Z=1&_=1&a=1&aa=1&é=1&secret=S")
    }

    @Test("strings are written decoded, not as JSON")
    func decodedStrings() throws {
        let fields = try #require(try JSONValue(parsing: body(#"{"r":"a\"b\\c\u00e9\n"}"#)).objectValue)
        #expect(scheme.canonicalString(of: fields, secret: "S") == "r=a\"b\\cé\n&secret=S")
    }

    @Test("the sign field is never part of the canonical string")
    func signExcluded() {
        #expect(scheme.canonicalString(of: ["sign": "abc", "a": 1], secret: "S") == "a=1&secret=S")
    }

    @Test("with nothing to sign the canonical string is the secret pair alone")
    func nothingToSign() {
        #expect(scheme.canonicalString(of: ["fee": 0, "sign": "x"], secret: "S") == "secret=S")
    }

    @Test("number forms rewrite amount fields only; ids, codes and unknown numbers stay as transmitted")
    func twoDecimalsSparesIntegersThatAreNotAmounts() {
        let fields: JSONObject = [
            "merchant_id": 8_820_250_900_009, "status": 5, "order_amount": 20, "orderAmount": 20,
            "rate": .number("1.5"), "big": .number("1.234"),
        ]
        #expect(scheme.canonicalString(of: fields, secret: "S", form: .twoDecimals)
                == "big=1.234&merchant_id=8820250900009&orderAmount=20.00&order_amount=20.00&rate=1.5&status=5&secret=S")
        #expect(scheme.canonicalString(of: ["merchant_id": .number("88.50"), "fee": .number("6.50")], secret: "S", form: .shortest)
                == "fee=6.5&merchant_id=88.50&secret=S")
        var custom = TrustPaySignature()
        custom.amountFields.insert("status")
        #expect(custom.canonicalString(of: ["status": 5], secret: "S", form: .twoDecimals) == "status=5.00&secret=S")
    }

    @Test("nested values are written as transmitted in every form")
    func nestedValuesUntouched() {
        for form in NumberForm.allCases {
            #expect(scheme.canonicalString(of: ["a": [.number("2.50"), 3]], secret: "S", form: form)
                    == "a=[2.50,3]&secret=S")
        }
    }

    @Test("a body is rejected for a missing, empty or malformed sign", arguments: [
        (#"{"a":1}"#, SignatureFailure.missingSign),
        (#"{"a":1,"sign":null}"#, .missingSign),
        (#"{"a":1,"sign":""}"#, .emptySign),
        (#"{"a":1,"sign":"abc"}"#, .malformedSign),
        (#"{"a":1,"sign":"d41d8cd98f00b204e9800998ecf8427"}"#, .malformedSign),
        (#"{"a":1,"sign":"d41d8cd98f00b204e9800998ecf8427e0"}"#, .malformedSign),
        (#"{"a":1,"sign":"g41d8cd98f00b204e9800998ecf8427e"}"#, .malformedSign),
        (#"{"a":1,"sign":" d41d8cd98f00b204e9800998ecf8427"}"#, .malformedSign),
        (#"{"a":1,"sign":12345}"#, .malformedSign),
        (#"{"a":1,"sign":"d41d8cd98f00b204e9800998ecf8427e"}"#, .mismatch),
        (#"[1]"#, .notAnObject),
    ])
    func rejections(_ text: String, _ expected: SignatureFailure) {
        #expect(scheme.verify(body: body(text), secrets: ["S"]) == .invalid(expected))
    }

    @Test("unreadable JSON is reported with its position")
    func invalidJSON() {
        guard case .invalid(.invalidJSON(let error)) = scheme.verify(body: body(#"{"a":1,,}"#), secrets: ["S"]) else {
            Issue.record("expected invalidJSON")
            return
        }
        #expect(error.byteOffset == 7)
    }

    @Test("without a secret nothing verifies")
    func noSecret() {
        let signed = scheme.signedBody(["a": 1], secret: "S")
        #expect(scheme.verify(body: signed, secrets: []) == .invalid(.noSecretConfigured))
    }

    @Test("only the configured number forms are tried")
    func formsAreConfigurable() {
        let fields: JSONObject = ["fee": .number("2.50"), "order_amount": .number("20.00")]
        let shortestSign = scheme.sign(fields, secret: "S", form: .shortest)
        var received = fields
        received["sign"] = .string(shortestSign)
        #expect(scheme.verify(received, secrets: ["S"]) == .valid(secretIndex: 0, form: .shortest))
        #expect(scheme.verify(received, secrets: ["S"], forms: [.asTransmitted, .twoDecimals]) == .invalid(.mismatch))
        #expect(scheme.verify(received, secrets: ["S"], forms: []) == .invalid(.mismatch))
    }

    @Test("upper-case hex is accepted")
    func upperCase() {
        var fields: JSONObject = ["a": 1]
        fields["sign"] = .string(scheme.sign(fields, secret: "S").uppercased())
        #expect(scheme.verify(fields, secrets: ["S"]).isValid)
    }

    @Test("the verdict names which rotated secret matched")
    func rotation() {
        let signed = scheme.signedBody(["a": 1], secret: "old")
        #expect(scheme.verify(body: signed, secrets: ["new", "old"]) == .valid(secretIndex: 1, form: .asTransmitted))
        #expect(scheme.verify(body: signed, secrets: ["new", "newer"]) == .invalid(.mismatch))
    }

    @Test("signing appends sign last and replaces a stale one")
    func signedBodyShape() throws {
        let fields: JSONObject = ["sign": "stale", "order_no": "A", "fee": .number("2.50")]
        let body = scheme.signedBody(fields, secret: "S")
        let object = try #require(try JSONValue(parsing: body).objectValue)
        #expect(object.keys == ["order_no", "fee", "sign"])
        #expect(object["sign"] == .string(scheme.sign(fields, secret: "S")))
        #expect(String(decoding: body, as: UTF8.self).hasPrefix(#"{"order_no":"A","fee":2.50,"sign":""#))
    }

    @Test("a diagnosis explains every attempt without ever showing a secret")
    func diagnosis() {
        let secrets = ["first-secret-value", "second-secret-value"]
        let body = scheme.signedBody(["order_no": "A", "fee": .number("2.50")], secret: secrets[1])
        let diagnosis = scheme.diagnose(body: body, secrets: secrets)
        #expect(diagnosis.verdict == .valid(secretIndex: 1, form: .asTransmitted))
        #expect(diagnosis.attempts.count == secrets.count * NumberForm.allCases.count)
        #expect(diagnosis.attempts.filter(\.matches).map(\.secretIndex).allSatisfy { $0 == 1 })
        let first = diagnosis.attempts[0]
        #expect(first.secretIndex == 0 && first.form == .asTransmitted)
        #expect(first.redactedCanonicalString == "fee=2.50&order_no=A&secret=<secret #0>")
        #expect(diagnosis.attempts[1].redactedCanonicalString == "fee=2.5&order_no=A&secret=<secret #0>")
        let everything = "\(diagnosis)"
        for secret in secrets { #expect(!everything.contains(secret)) }
        #expect(diagnosis.receivedSign == diagnosis.attempts.first { $0.matches }?.expectedSign)
    }

    @Test("a diagnosis of a tampered body shows what the signature should have been")
    func diagnosisOfMismatch() throws {
        var fields = scheme.signed(["order_no": "A", "paid_amount": 106], secret: "S")
        fields["paid_amount"] = 1060
        let diagnosis = scheme.diagnose(fields, secrets: ["S"], forms: [.asTransmitted])
        #expect(diagnosis.verdict == .invalid(.mismatch))
        let attempt = try #require(diagnosis.attempts.first)
        #expect(!attempt.matches)
        #expect(attempt.expectedSign == scheme.sign(fields, secret: "S"))
        #expect(attempt.redactedCanonicalString == "order_no=A&paid_amount=1060&secret=<secret #0>")
    }

    @Test("failure messages never contain the secret")
    func messagesHideSecrets() {
        let secret = "very-secret-1"
        for text in [#"{"a":1}"#, #"{"sign":""}"#, #"{"sign":"x"}"#, #"{"sign":"d41d8cd98f00b204e9800998ecf8427e"}"#, "{"] {
            #expect(!"\(scheme.verify(body: body(text), secrets: [secret]))".contains(secret))
        }
    }
}
