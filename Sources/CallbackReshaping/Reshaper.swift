import TrustPay

/// Bends a genuine body the ways an attacker holding it could, without
/// re-signing: type swaps, array↔string, moved and crafted keys, explicit
/// empties, spliced values, escapes, number forms, duplicate spellings,
/// whitespace, member order, upper-case hex. Deterministic for a seed.
public struct Reshaper {
    /// One member as it will be written; keys may repeat.
    public struct Member: Sendable {
        public var key: String
        public var value: JSONValue
        /// Write the key with every ASCII letter as a `\u` escape.
        public var escapeKey = false
        /// Write a string value with every ASCII letter as a `\u` escape.
        public var escapeValue = false
        /// Write the value as this raw JSON text instead (e.g. `1.06e2`).
        public var rawValue: String?

        public init(key: String, value: JSONValue) {
            self.key = key
            self.value = value
        }
    }

    /// A reshaped body and the steps that made it, for a failure message.
    public struct Reshaped: Sendable {
        public var members: [Member]
        public var steps: [String] = []
        public var pretty = false

        public var body: [UInt8] { BodyWriter.write(members, pretty: pretty) }
    }

    private var rng: SplitMix64

    public init(seed: UInt64) { rng = SplitMix64(seed: seed) }

    /// One to three random reshapings of `fields`.
    public mutating func reshape(_ fields: JSONObject) -> Reshaped {
        var shaped = Reshaped(members: fields.map { Member(key: $0.key, value: $0.value) })
        for _ in 0...rng.next(upTo: 3) { step(&shaped) }
        return shaped
    }

    private mutating func step(_ shaped: inout Reshaped) {
        let kinds: [(String, (inout Reshaper, inout Reshaped) -> Void)] = [
            ("whitespace", { _, s in s.pretty = true }),
            ("member order", { r, s in s.members.shuffle(using: &r.rng) }),
            ("upper-case sign", { _, s in s.mapValue(of: TrustPaySignature.signKey) { .string(($0.stringValue ?? "").uppercased()) } }),
            ("type swap", { r, s in r.swapType(&s) }),
            ("explicit empty", { r, s in r.explicitEmpty(&s) }),
            ("moved key", { r, s in r.moveKey(&s) }),
            ("spliced value", { r, s in r.splice(&s) }),
            ("escapes", { r, s in r.escape(&s) }),
            ("number form", { r, s in r.numberForm(&s) }),
            ("duplicate spelling", { r, s in r.duplicateSpelling(&s) }),
            ("crafted key", { r, s in r.craftedKey(&s) }),
        ]
        let (name, apply) = kinds[Int(rng.next(upTo: UInt64(kinds.count)))]
        shaped.steps.append(name)
        apply(&self, &shaped)
    }

    // MARK: the reshapings

    private mutating func pick(_ shaped: Reshaped, where accept: (Member) -> Bool = { _ in true }) -> Int? {
        let candidates = shaped.members.indices.filter { accept(shaped.members[$0]) }
        return candidates.isEmpty ? nil : candidates[Int(rng.next(upTo: UInt64(candidates.count)))]
    }

    /// Number ↔ string, array ↔ its JSON text, `true` ↔ `"true"`.
    private mutating func swapType(_ shaped: inout Reshaped) {
        guard let index = pick(shaped, where: { $0.key != TrustPaySignature.signKey }) else { return }
        let value = shaped.members[index].value
        shaped.members[index].value =
            switch value {
            case .number(let literal): .string(literal)
            case .string(let text):
                if let parsed = try? JSONValue(parsing: Array(text.utf8)) { parsed } else { .string(text) }
            case .array, .object: .string(value.compactJSON)
            case .bool(true): .string("true")
            default: value
            }
    }

    /// Sets a field, or adds a documented one, to a value the signature ignores.
    private mutating func explicitEmpty(_ shaped: inout Reshaped) {
        let empties: [JSONValue] = [.null, "", 0, .number("0.00"), false, [], [:]]
        let empty = empties[Int(rng.next(upTo: UInt64(empties.count)))]
        let documented = ["type", "status", "merchant_id", "merchantId", "order_no", "orderNo", "fee", "order_amount",
                          "merchant_refund_no", "merchantRefundNo", "pay_time", "card_id", "reason"]
        if rng.next(upTo: 2) == 0, let index = pick(shaped, where: { $0.key != TrustPaySignature.signKey }) {
            shaped.members[index].value = empty
        } else {
            let key = documented[Int(rng.next(upTo: UInt64(documented.count)))]
            shaped.members.removeAll { $0.key == key && TrustPaySignature.isEmptyForSigning($0.value) }
            if !shaped.members.contains(where: { $0.key == key }) { shaped.members.append(Member(key: key, value: empty)) }
        }
    }

    /// Two neighbouring signed pairs `a=x&b=y` become one crafted key
    /// `"a=x&b": y`; the originals are dropped or emptied.
    private mutating func moveKey(_ shaped: inout Reshaped) {
        guard let (first, second) = neighbours(shaped) else { return }
        let craftedKey = first.key + "=" + signedText(first.value) + "&" + second.key
        let value = second.value
        dropOrEmpty(&shaped, first.key)
        dropOrEmpty(&shaped, second.key)
        shaped.members.append(Member(key: craftedKey, value: value))
    }

    /// Two neighbouring signed pairs `a=x&b=y` become `"a": "x&b=y"`.
    private mutating func splice(_ shaped: inout Reshaped) {
        guard let (first, second) = neighbours(shaped) else { return }
        let spliced = signedText(first.value) + "&" + second.key + "=" + signedText(second.value)
        shaped.mapValue(of: first.key) { _ in .string(spliced) }
        dropOrEmpty(&shaped, second.key)
    }

    private mutating func escape(_ shaped: inout Reshaped) {
        guard let index = pick(shaped) else { return }
        if rng.next(upTo: 2) == 0 { shaped.members[index].escapeKey = true } else { shaped.members[index].escapeValue = true }
    }

    /// Other spellings of a number: more or fewer decimals, an exponent, a sign.
    private mutating func numberForm(_ shaped: inout Reshaped) {
        guard let index = pick(shaped, where: { $0.value.numberLiteral != nil || Double($0.value.stringValue ?? "x") != nil })
        else { return }
        let literal = shaped.members[index].value.numberLiteral ?? shaped.members[index].value.stringValue ?? "0"
        let trimmed = literal.hasSuffix(".00") ? String(literal.dropLast(3)) : literal
        let forms = [literal + (literal.contains(".") ? "0" : ".00"), trimmed, literal + "e0", "-" + literal,
                     literal.contains(".") ? literal : literal + ".0", "0" + literal]
        let form = forms[Int(rng.next(upTo: UInt64(forms.count)))]
        if shaped.members[index].value.numberLiteral != nil {
            shaped.members[index].rawValue = form
        } else {
            shaped.members[index].value = .string(form)
        }
    }

    /// The other spelling of a field beside it, with the same, an empty, or
    /// another value; or the same key twice.
    private mutating func duplicateSpelling(_ shaped: inout Reshaped) {
        let twins = ["merchant_id": "merchantId", "order_no": "orderNo", "order_amount": "orderAmount",
                     "merchant_refund_no": "merchantRefundNo", "pay_time": "payTime", "card_id": "cardId"]
        let allTwins = twins.merging(Dictionary(uniqueKeysWithValues: twins.map { ($1, $0) })) { a, _ in a }
        guard let index = pick(shaped) else { return }
        let member = shaped.members[index]
        let twinKey = allTwins[member.key] ?? member.key  // no twin: the same key again
        let value: JSONValue =
            switch rng.next(upTo: 3) {
            case 0: member.value
            case 1: ""
            default: .string("other")
            }
        shaped.members.append(Member(key: twinKey, value: value))
    }

    /// A name with the canonical string's separators or non-ASCII letters.
    private mutating func craftedKey(_ shaped: inout Reshaped) {
        let keys = ["status=2&type", "order_no ", "ｏrder_no", "order-no", "", "a&b", "sign=", "Status"]
        let key = keys[Int(rng.next(upTo: UInt64(keys.count)))]
        shaped.members.append(Member(key: key, value: rng.next(upTo: 2) == 0 ? "1" : 1))
    }

    // MARK: helpers

    /// Two signed members that sit next to each other in the canonical string.
    private mutating func neighbours(_ shaped: Reshaped) -> (Member, Member)? {
        let signed = shaped.members
            .filter { $0.key != TrustPaySignature.signKey && !TrustPaySignature.isEmptyForSigning($0.value) }
            .sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }
        guard signed.count >= 2 else { return nil }
        let index = Int(rng.next(upTo: UInt64(signed.count - 1)))
        return (signed[index], signed[index + 1])
    }

    private mutating func dropOrEmpty(_ shaped: inout Reshaped, _ key: String) {
        if rng.next(upTo: 2) == 0 {
            shaped.members.removeAll { $0.key == key }
        } else {
            let empty: JSONValue = [.null, "", 0, false][Int(rng.next(upTo: 4))]
            shaped.mapValue(of: key) { _ in empty }
        }
    }

    private func signedText(_ value: JSONValue) -> String {
        switch value {
        case .string(let text): text
        case .number(let literal): literal
        default: value.compactJSON
        }
    }
}

extension Reshaper.Reshaped {
    mutating func mapValue(of key: String, _ transform: (JSONValue) -> JSONValue) {
        for index in members.indices where members[index].key == key {
            members[index].value = transform(members[index].value)
            members[index].rawValue = nil
        }
    }
}
