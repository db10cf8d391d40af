import Testing
@testable import TrustPay

@Suite("Signature properties over generated payloads")
struct SignaturePropertyTests {
    let scheme = TrustPaySignature()
    let seeds: Range<UInt64> = 0..<400

    @Test("signing then verifying any payload succeeds, and the body parses back to what was signed")
    func signThenVerify() throws {
        for seed in seeds {
            var generator = PayloadGenerator(seed: seed)
            let fields = generator.object()
            let secret = generator.nonEmptyString()
            let body = scheme.signedBody(fields, secret: secret)
            #expect(scheme.verify(body: body, secrets: [secret]) == .valid(secretIndex: 0, form: .asTransmitted),
                    "seed \(seed)")
            #expect(try JSONValue(parsing: body) == .object(scheme.signed(fields, secret: secret)), "seed \(seed)")
        }
    }

    @Test("member order and added empty values do not change the signature")
    func orderAndEmptiesAreIgnored() throws {
        for seed in seeds {
            var generator = PayloadGenerator(seed: seed)
            let fields = generator.object()
            var shuffled = try JSONObject(fields.shuffled(using: &generator.rng).map { ($0.key, $0.value) })
            for empty: JSONValue in [nil, "", .number("0.00"), false, [], [:]] {
                let key = "empty_" + generator.nonEmptyString()
                if shuffled[key] == nil { shuffled[key] = empty }
            }
            #expect(scheme.sign(shuffled, secret: "k") == scheme.sign(fields, secret: "k"), "seed \(seed)")
        }
    }

    @Test("changing the value of any signed field breaks the signature")
    func changedValueFails() throws {
        for seed in seeds {
            var generator = PayloadGenerator(seed: seed)
            var (fields, secret, key) = try signedPayload(&generator)
            fields[key] = changed(fields[key]!, &generator)
            #expect(verdict(fields, secret) == .invalid(.mismatch), "seed \(seed), field \(key)")
        }
    }

    @Test("removing any non-empty field breaks the signature")
    func removedFieldFails() throws {
        for seed in seeds {
            var generator = PayloadGenerator(seed: seed)
            var (fields, secret, key) = try signedPayload(&generator)
            fields[key] = nil
            #expect(verdict(fields, secret) == .invalid(.mismatch), "seed \(seed), field \(key)")
        }
    }

    @Test("adding any non-empty field breaks the signature")
    func addedFieldFails() throws {
        for seed in seeds {
            var generator = PayloadGenerator(seed: seed)
            var (fields, secret, _) = try signedPayload(&generator)
            var key = generator.key()
            while fields[key] != nil || key == TrustPaySignature.signKey { key += "x" }
            var value = generator.value()
            while TrustPaySignature.isEmptyForSigning(value) { value = generator.value() }
            fields[key] = value
            #expect(verdict(fields, secret) == .invalid(.mismatch), "seed \(seed), field \(key)")
        }
    }

    // MARK: helpers

    /// A signed payload with at least one non-empty field, and one such field chosen at random.
    private func signedPayload(_ generator: inout PayloadGenerator) throws -> (JSONObject, String, String) {
        var fields = generator.object()
        fields["order_no"] = .string(generator.nonEmptyString())
        let secret = generator.nonEmptyString()
        let signed = scheme.signed(fields, secret: secret)
        let candidates = fields.filter { !TrustPaySignature.isEmptyForSigning($0.value) }
        let key = try #require(candidates.randomElement(using: &generator.rng)).key
        return (signed, secret, key)
    }

    /// The verdict after a round trip through bytes, trying every number form.
    private func verdict(_ fields: JSONObject, _ secret: String) -> SignatureVerdict {
        scheme.verify(body: fields.compactJSONBytes, secrets: [secret], forms: NumberForm.allCases)
    }

    /// A different, still non-empty value whose text differs in every number form.
    private func changed(_ value: JSONValue, _ generator: inout PayloadGenerator) -> JSONValue {
        switch value {
        case .string(let text):
            return .string(text + generator.nonEmptyString())
        case .number(let literal):
            // Prefixing a 1 to the integer part changes the quantity, never to zero.
            return .number(literal.hasPrefix("-") ? "-1" + literal.dropFirst() : "1" + literal)
        case .bool:
            return .string("yes")  // `true` and `"true"` would sign alike
        case .array(let elements):
            return .array(elements + [.string(generator.nonEmptyString())])
        case .object(var object):
            object["added_" + generator.nonEmptyString()] = 1
            return .object(object)
        case .null:
            return .string(generator.nonEmptyString())
        }
    }
}
