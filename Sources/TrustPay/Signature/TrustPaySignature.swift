import Crypto  // Insecure.MD5, the hash state carried from verification to the content hash
import Foundation  // memcmp

/// TrustPay's MD5 signature: checking callbacks and signing outgoing bodies.
///
/// The canonical string is built from every top-level field except `sign`:
/// empty values (`null`, `""`, any spelling of zero, `false`, `[]`, `{}`) are
/// left out, the keys are sorted by their UTF-8 bytes, each field is written
/// `key=value` and the pairs are joined with `&`, followed by
/// `&secret=<secret>`. Strings are written decoded, `true` as `true`, numbers as
/// their literal (amounts in the chosen ``NumberForm``), arrays and objects as
/// compact JSON with their number literals as transmitted.
///
/// The canonical string has no escaping, so a valid signature alone does not
/// pin down what a body means: accept callbacks through
/// ``CallbackAuthenticator``, which also enforces ``SignedContent``. `sign` is the lower-case hex MD5 of that
/// string's UTF-8 bytes.
///
/// ```swift
/// let scheme = TrustPaySignature()
/// switch scheme.verify(body: body, secrets: [current, previous]) {
/// case .valid(let secretIndex, _): if secretIndex > 0 { /* still on the old secret */ }
/// case .invalid(let failure): logger.warning("rejected callback: \(failure)")
/// }
/// ```
public struct TrustPaySignature: Sendable {
    /// The field that carries the signature.
    public static let signKey = "sign"
    /// Its fingerprint: four bytes, so comparing fingerprints compares the
    /// keys. Written out (length 4, then `s`, `i`, `g`, `n`), not a `static
    /// let`: every member of a callback is asked whether it is `sign`, in
    /// three passes, and each read of a global went through `swift_once`.
    static var signFingerprint: KeyFingerprint { KeyFingerprint(bits: 0x0473_6967_6E00_0000) }

    /// The amount fields of the documented callbacks, in both spellings.
    public static let documentedAmountFields: Set<String> = [
        "order_amount", "paid_amount", "balance_amount", "refund_amount", "fee", "amount", "balance",
        "orderAmount", "paidAmount", "balanceAmount", "refundAmount",
    ]

    /// The fields whose number literals the alternative ``NumberForm``s
    /// rewrite. Every other number (ids, codes, card ids, unknown fields) is
    /// always written as transmitted: an identifier has no other spelling, so
    /// `8820250900009.00` can never stand in for `8820250900009`.
    public var amountFields: Set<String>

    public init(amountFields: Set<String> = TrustPaySignature.documentedAmountFields) {
        self.amountFields = amountFields
    }

    /// The scheme with the documented amount fields, made once.
    static let standard = TrustPaySignature()

    // MARK: canonical string

    /// The string whose MD5 is the signature, secret included. For tests and
    /// tooling; never log it (see ``diagnose(_:secrets:forms:)`` instead).
    package func canonicalString(of fields: JSONObject, secret: String, form: NumberForm = .asTransmitted) -> String {
        String(decoding: canonicalBytes(signedText(of: fields, form: form), secret: secret), as: UTF8.self)
    }

    /// `key=value&…` for the signed fields, without the secret.
    func signedText(of fields: JSONObject, form: NumberForm) -> [UInt8] {
        // Members read in place and positions sorted, not members: no copies
        // of keys and values. Each kept position carries its key's first
        // eight bytes, read once, for the sort.
        fields.withMembers { members in
            var kept: [SortEntry] = []
            kept.reserveCapacity(members.count)
            var length = 0
            // Whether every signed value is a string or a number written as
            // transmitted (a callback's usual fields): `length` is then the
            // text's exact length, and the text is copied into a buffer of
            // that size, with no growth checks per append.
            var plain = form == .asTransmitted
            for position in members.indices
            where !members[position].isSign && !Self.isEmptyForSigning(members[position].value) {
                let key = members[position].key
                kept.append(SortEntry(prefix: Self.keyPrefix(key), position: position))
                length += key.utf8.count + 2
                switch members[position].value {
                case .string(let text), .number(let text): length += text.utf8.count
                default:
                    plain = false
                    length += Self.estimatedLength(of: members[position].value)
                }
            }
            Self.sortByKey(&kept, in: members)
            if plain { return Self.plainText(kept, members, length: max(0, length - 1)) }
            var out: [UInt8] = []
            out.reserveCapacity(length)
            for index in kept.indices {
                let position = kept[index].position
                if index > 0 { out.append(UInt8(ascii: "&")) }
                out.appendUTF8(members[position].key)
                out.append(UInt8(ascii: "="))
                renderValue(members[position].value, of: members[position].key, in: form, into: &out)
            }
            return out
        }
    }

    /// The signed text of `kept` (sorted), whose values are all strings and
    /// numbers written as transmitted, `length` bytes long: what
    /// ``signedText(of:form:)`` writes by appends, copied in place.
    private static func plainText(
        _ kept: [SortEntry], _ members: UnsafeBufferPointer<JSONObject.Member>, length: Int
    ) -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: length) { buffer, count in
            var at = 0
            for index in kept.indices {
                let member = members[kept[index].position]
                if index > 0 { at = put(UInt8(ascii: "&"), into: buffer, at: at) }
                at = copyUTF8(member.key, into: buffer, at: at)
                at = put(UInt8(ascii: "="), into: buffer, at: at)
                switch member.value {
                case .string(let text), .number(let text): at = copyUTF8(text, into: buffer, at: at)
                default: preconditionFailure("plainText of a value that is neither a string nor a number")
                }
            }
            precondition(at == length, "plainText wrote \(at) bytes of \(length)")
            count = at
        }
    }

    private static func put(_ byte: UInt8, into buffer: UnsafeMutableBufferPointer<UInt8>, at: Int) -> Int {
        buffer[at] = byte  // bounds-checked
        return at + 1
    }

    private static func copyUTF8(_ text: String, into buffer: UnsafeMutableBufferPointer<UInt8>, at: Int) -> Int {
        let copied = text.utf8.withContiguousStorageIfAvailable { bytes -> Int in
            precondition(at + bytes.count <= buffer.count, "plainText past its length")
            if let source = bytes.baseAddress, bytes.count > 0 {
                (buffer.baseAddress! + at).update(from: source, count: bytes.count)
            }
            return at + bytes.count
        }
        if let copied { return copied }
        var at = at
        for byte in text.utf8 { at = put(byte, into: buffer, at: at) }
        return at
    }

    /// A signed member's position and its key's first eight bytes.
    private struct SortEntry {
        let prefix: UInt64
        let position: Int
    }

    /// Sorts member positions by their keys' UTF-8 bytes (keys are unique).
    /// A callback's dozen fields take an insertion sort on each key's first
    /// eight bytes, comparing whole keys only on a tie; a large object the
    /// library's sort.
    private static func sortByKey(_ entries: inout [SortEntry], in members: UnsafeBufferPointer<JSONObject.Member>) {
        func precedes(_ a: SortEntry, _ b: SortEntry) -> Bool {
            a.prefix != b.prefix ? a.prefix < b.prefix : keyPrecedes(members[a.position].key, members[b.position].key)
        }
        guard entries.count <= 32 else {
            entries.sort(by: precedes)
            return
        }
        entries.withUnsafeMutableBufferPointer { entries in
            for unsorted in entries.indices.dropFirst() {
                let entry = entries[unsorted]
                var slot = unsorted
                while slot > 0, precedes(entry, entries[slot - 1]) {
                    entries[slot] = entries[slot - 1]
                    slot -= 1
                }
                entries[slot] = entry
            }
        }
    }

    /// The first eight bytes of `key`, big-endian, zero-padded: ordered as
    /// the keys' bytes are, except that a tie says nothing (`a` and `a\0`).
    private static func keyPrefix(_ key: String) -> UInt64 {
        func read(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt64 {
            var prefix: UInt64 = 0
            for index in 0..<min(8, bytes.count) { prefix |= UInt64(bytes[index]) << (56 - 8 * UInt64(index)) }
            return prefix
        }
        return key.utf8.withContiguousStorageIfAvailable(read) ?? Array(key.utf8.prefix(8)).withUnsafeBufferPointer(read)
    }

    /// Whether `a` sorts before `b` by UTF-8 bytes.
    private static func keyPrecedes(_ a: String, _ b: String) -> Bool {
        let fast = a.utf8.withContiguousStorageIfAvailable { x in
            b.utf8.withContiguousStorageIfAvailable { y in
                let common = min(x.count, y.count)
                let order = common == 0 ? 0 : memcmp(x.baseAddress!, y.baseAddress!, common)  // as unsigned bytes
                return order != 0 ? order < 0 : x.count < y.count
            }
        }
        return (fast ?? nil) ?? a.utf8.lexicographicallyPrecedes(b.utf8)
    }

    /// Room for a value's text (`twoDecimals` may add three bytes); only sizes a buffer.
    private static func estimatedLength(of value: JSONValue) -> Int {
        switch value {
        case .string(let text): text.utf8.count
        case .number(let literal): literal.utf8.count + 3
        default: 16
        }
    }

    /// The text a (non-empty) value contributes after `key=`.
    func renderValue(_ value: JSONValue, of key: String, in form: NumberForm, into out: inout [UInt8]) {
        switch value {
        case .string(let text): out.appendUTF8(text)
        case .number(let literal):
            // As transmitted needs no look-up in `amountFields` (a hash of the key).
            let rewrite = form != .asTransmitted && amountFields.contains(key)
            out.appendUTF8(rewrite ? form.render(literal) : literal)
        case let other: other.writeCompact(into: &out)  // true, arrays, objects
        }
    }

    // With no field at all the string is just `secret=<secret>`: the secret is
    // the last pair of the list, not a suffix glued to an empty one.
    func canonicalBytes(_ signedText: [UInt8], secret: some StringProtocol) -> [UInt8] {
        var out = signedText
        if !out.isEmpty { out.append(UInt8(ascii: "&")) }
        out.append(contentsOf: "secret=".utf8)
        out.append(contentsOf: secret.utf8)
        return out
    }

    /// Whether a value is left out of the canonical string.
    public static func isEmptyForSigning(_ value: JSONValue) -> Bool {
        switch value {
        case .null: true
        case .bool(let flag): !flag
        case .string(let text): text.isEmpty
        case .number(let literal): NumberLiteral.isZero(literal)
        case .array(let elements): elements.isEmpty
        case .object(let object): object.isEmpty
        }
    }

    // MARK: signing

    /// The lower-case hex signature of `fields` (any `sign` field is ignored).
    public func sign(_ fields: JSONObject, secret: String, form: NumberForm = .asTransmitted) -> String {
        MD5.hex(MD5.canonicalDigest(signedText: signedText(of: fields, form: form), secret: secret))
    }

    /// `fields` with `sign` appended as the last member (replacing any previous one).
    public func signed(_ fields: JSONObject, secret: String, form: NumberForm = .asTransmitted) -> JSONObject {
        var result = fields
        result.removeValue(forKey: Self.signKey)
        result[Self.signKey] = .string(sign(result, secret: secret, form: form))
        return result
    }

    /// The compact JSON body of `fields` with `sign` appended, ready to POST.
    /// Adding the `X-Api-Key` header is the caller's business.
    public func signedBody(_ fields: JSONObject, secret: String, form: NumberForm = .asTransmitted) -> [UInt8] {
        signed(fields, secret: secret, form: form).compactJSONBytes
    }

    // MARK: verification

    /// Checks the `sign` of a raw callback body.
    ///
    /// - Parameters:
    ///   - secrets: the merchant secrets to accept, current first; several
    ///     allow rotating the secret without rejecting callbacks in flight.
    ///   - forms: the number forms to try, in order; empty means `[.asTransmitted]`.
    /// - Returns: the first secret and form that match, tried secret by secret.
    public func verify(
        body: some Collection<UInt8>, secrets: [String], forms: [NumberForm] = NumberForm.allCases
    ) -> SignatureVerdict {
        switch Self.object(from: body) {
        case .success(let fields): verify(fields, secrets: secrets, forms: forms)
        case .failure(let failure): .invalid(failure)
        }
    }

    /// Checks the `sign` of an already parsed body.
    public func verify(
        _ fields: JSONObject, secrets: [String], forms: [NumberForm] = NumberForm.allCases
    ) -> SignatureVerdict {
        switch match(fields, secrets: secrets, forms: forms) {
        case .success(let match): .valid(secretIndex: match.secretIndex, form: match.form)
        case .failure(let failure): .invalid(failure)
        }
    }

    /// The secret and form that verify, with the signed text they verified
    /// and that text hashed up to its secret (``MD5/canonicalPrefix(signedText:)``).
    func match(
        _ fields: JSONObject, secrets: [String], forms: [NumberForm]
    ) -> Result<(secretIndex: Int, form: NumberForm, signedText: [UInt8], hashedText: Insecure.MD5), SignatureFailure> {
        guard !secrets.isEmpty else { return .failure(.noSecretConfigured) }
        let received: MD5.Received
        switch Self.receivedDigest(in: fields) {
        case .success(let digest): received = digest
        case .failure(let failure): return .failure(failure)
        }
        let forms = forms.isEmpty ? [.asTransmitted] : forms
        // Each form's text is built and hashed when first needed: a callback
        // signed as transmitted with the current secret costs one rendering,
        // not three, and each further secret hashes only itself. The first
        // form's text is kept apart from the others', whose list is made
        // only when a second form is tried (an allocation per callback).
        var first: (text: [UInt8], hashed: Insecure.MD5)?
        var others: [(text: [UInt8], hashed: Insecure.MD5)?] = []
        for (secretIndex, secret) in secrets.enumerated() {
            for (index, form) in forms.enumerated() {
                let known = index == 0 ? first : others.isEmpty ? nil : others[index - 1]
                let text: [UInt8]
                let hashed: Insecure.MD5
                if let known {
                    (text, hashed) = known
                } else {
                    text = signedText(of: fields, form: form)
                    hashed = MD5.canonicalPrefix(signedText: text)
                    if index == 0 {
                        first = (text, hashed)
                    } else {
                        if others.isEmpty { others = Array(repeating: nil, count: forms.count - 1) }
                        others[index - 1] = (text, hashed)
                    }
                }
                if MD5.matches(hashed, secret: secret, expected: received) {
                    return .success((secretIndex, form, text, hashed))
                }
            }
        }
        return .failure(.mismatch)
    }

    static func object(from body: some Collection<UInt8>) -> Result<JSONObject, SignatureFailure> {
        do {
            guard case .object(let fields) = try JSONValue(parsing: body) else { return .failure(.notAnObject) }
            return .success(fields)
        } catch {
            return .failure(.invalidJSON(error))
        }
    }

    static func receivedDigest(in fields: JSONObject) -> Result<MD5.Received, SignatureFailure> {
        switch fields.signValue {
        case nil, .null?: return .failure(.missingSign)
        case .string(let text)?:
            if text.isEmpty { return .failure(.emptySign) }
            guard let digest = MD5.parseHex(text) else { return .failure(.malformedSign) }
            return .success(digest)
        case .some: return .failure(.malformedSign)
        }
    }
}

extension JSONObject.Member {
    /// Whether this is the `sign` member, which the signature leaves out.
    var isSign: Bool { fingerprint == TrustPaySignature.signFingerprint }
}

extension JSONObject {
    /// The value of `sign`, if present.
    var signValue: JSONValue? {
        index(forKey: TrustPaySignature.signKey, fingerprint: TrustPaySignature.signFingerprint).map { self[$0].value }
    }
}
