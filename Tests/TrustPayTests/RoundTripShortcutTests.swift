import CallbackReshaping
import Testing
@testable import TrustPay

/// `SignedContent.roundTrips` answers "do the two objects sign the same
/// text?" first by comparing their signed pairs, and only then by building
/// the second text. The answer must be exactly the comparison of the texts.
@Suite("Round trip: the pair shortcut agrees with the texts")
struct RoundTripShortcutTests {
    let scheme = TrustPaySignature()

    private func agrees(_ renderedBack: JSONObject, _ fields: JSONObject, form: NumberForm) -> Bool {
        let verified = scheme.signedText(of: fields, form: form)
        let texts = scheme.signedText(of: renderedBack, form: form) == verified
        return SignedContent.roundTrips(renderedBack, fields: fields, verified: verified, signature: scheme, form: form)
            == texts
    }

    @Test(arguments: NumberForm.allCases)
    func handPickedPairs(form: NumberForm) {
        let cases: [(back: JSONObject, fields: JSONObject)] = [
            (["a": "1", "b": 2], ["b": 2, "a": "1", "sign": "x"]),  // same pairs, other order, sign ignored
            (["a": "1", "b": "2"], ["a": "1&b=2"]),  // a value standing for a pair: same text, other pairs
            (["a": "1&b=2"], ["a": "1", "b": "2"]),
            (["a": "1"], ["a": "2"]),
            (["a": "1"], ["a": "1", "c": ""]),  // an unsigned member on one side only
            (["a": "1", "c": 0], ["a": "1"]),
            (["a": "1"], ["a": "1", "b": "2"]),  // a signed member on one side only
            (["a": "1", "b": "2"], ["a": "1"]),
            (["fee": "2.50"], ["fee": .number("2.50")]),  // another kind, the same rendering as transmitted
            (["fee": .number("2.5")], ["fee": .number("2.50")]),  // the same amount, another literal
            (["order_amount": .number("106.00")], ["order_amount": .number("106")]),
            (["x": ["RF-1"]], ["x": "[\"RF-1\"]"]),  // an array and the string of its JSON
            ([:], [:]),
            ([:], ["a": nil, "b": false]),
        ]
        for (back, fields) in cases {
            #expect(agrees(back, fields, form: form), "\(back.compactJSON) against \(fields.compactJSON)")
        }
        // The shortcut alone would refuse the spliced pair; the answer comes from the texts.
        #expect(!SignedContent.signsSamePairs(["a": "1", "b": "2"], ["a": "1&b=2"], signature: scheme, form: form))
        #expect(SignedContent.roundTrips(
            ["a": "1", "b": "2"], fields: ["a": "1&b=2"], verified: scheme.signedText(of: ["a": "1&b=2"], form: form),
            signature: scheme, form: form))
    }

    @Test("a decoder's 'renders as transmitted' holds only when the texts as transmitted are the same")
    func decodersRenderedBackFlagAgreesWithTheTexts() {
        var flagged = 0
        var unflagged = 0
        for seed in 0..<UInt64(4_000) {
            var generator = GenuineCallbacks(seed: seed)
            var reshaper = Reshaper(seed: seed &* 31 &+ 7)
            let original = generator.next()
            for body in [original.body, reshaper.reshape(original.fields).body] {
                guard let fields = try? CallbackFields.parse(body) else { continue }
                let rendered: RenderedBack
                switch original.route {
                case .payment:
                    var back = RenderedBack(object: JSONObject(), rendersAsTransmitted: false)
                    guard (try? PaymentCallback(fields: fields, rawBody: body, renderedBack: &back)) != nil else { continue }
                    rendered = back
                case .card:
                    guard let card = try? CardCallback(fields: fields, rawBody: body) else { continue }
                    rendered = card.renderedBack
                }
                let same = scheme.signedText(of: rendered.object, form: .asTransmitted)
                    == scheme.signedText(of: fields, form: .asTransmitted)
                if rendered.rendersAsTransmitted {
                    flagged += 1
                    #expect(same, "seed \(seed): \(String(decoding: body, as: UTF8.self))")
                } else {
                    unflagged += 1
                }
            }
        }
        // Both answers must be reached, or the property proves nothing.
        #expect(flagged > 1_000)
        #expect(unflagged > 10)
    }

    @Test("generated objects and their edits: the answer is the comparison of the texts")
    func generatedPairs() {
        var shortcutTaken = 0
        for seed in 0..<UInt64(3_000) {
            var generator = PayloadGenerator(seed: seed)
            let fields = generator.object()
            var back = fields
            switch generator.int(0...5) {
            case 0: break
            case 1: back[generator.key()] = generator.value()  // replaced or added
            case 2: if let key = fields.keys.first { back[key] = nil }
            case 3:  // the same members in reverse order
                back = JSONObject()
                for member in fields.reversed() { back[member.key] = member.value }
            case 4: if let member = fields.first { back[member.key] = .string(scheme.signedTextValue(member)) }
            default: back = generator.object()
            }
            let form = NumberForm.allCases[generator.int(0...(NumberForm.allCases.count - 1))]
            #expect(agrees(back, fields, form: form), "seed \(seed): \(back.compactJSON) against \(fields.compactJSON)")
            if SignedContent.signsSamePairs(back, fields, signature: scheme, form: form) { shortcutTaken += 1 }
        }
        // Both ways through `roundTrips` are exercised.
        #expect(shortcutTaken > 500)
        #expect(shortcutTaken < 2_900)
    }
}

extension TrustPaySignature {
    /// A member's value as it appears after `key=` in the signed text.
    fileprivate func signedTextValue(_ member: JSONObject.Member) -> String {
        var out: [UInt8] = []
        renderValue(member.value, of: member.key, in: .asTransmitted, into: &out)
        return String(decoding: out, as: UTF8.self)
    }
}
