import Crypto  // Insecure.MD5

/// The rule that makes a signature mean something: an accepted callback's
/// meaning comes only from text the signature covers, and two bodies mean
/// the same event exactly when their signed content is the same.
///
/// TrustPay's canonical string has no escaping (`key=value&…`), leaves out
/// empty values and writes arrays as their JSON text, so one signed text can
/// be reached from many JSON bodies. The rule closes that gap in four steps,
/// all of them here or in the field codecs this file names:
///
/// 1. **Shape** (``checkShape(_:signature:)``): field names are ASCII letters,
///    digits and `_`, so a name cannot carry `=` or `&`; no signed value
///    contains `&name=`, so a value cannot stand for fields of its own. With
///    both, the signed text splits into its `key=value` pairs one way only.
/// 2. **Types** (`FieldCodec`): each documented field has one JSON type, so
///    the same pair cannot decode two ways (`["RF-1"]` the array, never the
///    string; `5` the integer, never `"5"`). Amounts alone may be numbers or
///    numeric strings: both decode to the same exact value.
/// 3. **Empties**: a value the signature leaves out (`null`, `""`, zero,
///    `false`, `[]`, `{}`) reads as absent, and the identifying fields must be
///    present, so an unsigned value can neither add nor change meaning.
/// 4. **Round trip** (``roundTrips(_:fields:verified:signature:form:)``): after
///    verification the typed callback is written back into its canonical text,
///    which must equal the verified text byte for byte.
///
/// The idempotency key is built from the typed identifying fields, which step
/// 4 proves render exactly as signed; the content hash is the verified text
/// itself (``contentHash(ofSignedText:signature:)``).
enum SignedContent {
    /// Refuses names that are not TrustPay's and values that could splice
    /// fields into the canonical text. `sign` is checked like any name; its
    /// value is not signed.
    static func checkShape(_ object: JSONObject, signature: TrustPaySignature) throws(CallbackDecodingError) {
        // Members read in place (see `JSONObject.withMembers`), names and
        // values over their bytes, not through the generic UTF8View.
        let refusal: CallbackDecodingError? = object.withMembers { members in
            for index in members.indices {
                let fieldName = members[index].key.utf8.withContiguousStorageIfAvailable { isFieldName($0) }
                guard fieldName ?? isFieldName(Array(members[index].key.utf8)) else {
                    return .invalidFieldName(members[index].key)
                }
            }
            var text: [UInt8] = []
            for index in members.indices where !members[index].isSign {
                let spliced: Bool
                switch members[index].value {
                // Rendered as their own text: checked in place, without a copy.
                case .string(let value), .number(let value):
                    spliced = value.utf8.withContiguousStorageIfAvailable { containsSplice($0) }
                        ?? containsSplice(Array(value.utf8))
                case .null, .bool: spliced = false
                case .array, .object:
                    guard !TrustPaySignature.isEmptyForSigning(members[index].value) else { continue }
                    text.removeAll(keepingCapacity: true)
                    signature.renderValue(members[index].value, of: members[index].key, in: .asTransmitted, into: &text)
                    spliced = text.withUnsafeBufferPointer { containsSplice($0) }
                }
                if spliced { return .splicedValue(field: members[index].key) }
            }
            return nil
        }
        if let refusal { throw refusal }
    }

    /// ASCII letters, digits and `_`, at least one.
    static func isFieldName(_ name: some Collection<UInt8>) -> Bool {
        !name.isEmpty && name.allSatisfy(isNameByte)
    }

    /// Whether `text` holds `&`, one or more name bytes, then `=`: the shape
    /// of a pair boundary in the canonical string. Number forms only rewrite
    /// digits and points, so checking the transmitted rendering covers them all.
    static func containsSplice(_ text: [UInt8]) -> Bool {
        text.withUnsafeBufferPointer { containsSplice($0) }
    }

    static func containsSplice(_ text: UnsafeBufferPointer<UInt8>) -> Bool {
        var index = 0
        while index < text.count {
            defer { index += 1 }
            guard text[index] == UInt8(ascii: "&") else { continue }
            var end = index + 1
            while end < text.count, isNameByte(text[end]) { end += 1 }
            if end > index + 1, end < text.count, text[end] == UInt8(ascii: "=") { return true }
        }
        return false
    }

    private static func isNameByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"):
            true
        default: false
        }
    }

    /// Whether the typed fields, written back, sign exactly as `verified`,
    /// the signed text of `fields` in `form`.
    ///
    /// The answer is always the comparison of the two texts. It is first
    /// reached without building the second text where that is easy: when
    /// both objects sign the same `key=value` pairs (``signsSamePairs``),
    /// their texts are equal, since a text is those pairs sorted by their
    /// (unique) keys' bytes. When they do not, the texts are compared.
    static func roundTrips(
        _ renderedBack: JSONObject, fields: JSONObject, verified: [UInt8], signature: TrustPaySignature,
        form: NumberForm
    ) -> Bool {
        signsSamePairs(renderedBack, fields, signature: signature, form: form)
            || signature.signedText(of: renderedBack, form: form) == verified
    }

    /// Whether `a` and `b` contribute the same `key=value` pairs to their
    /// signed texts in `form`: every signed member of `a` has a signed member
    /// of `b` with the same key bytes rendering to the same bytes, and both
    /// sign as many members. `false` says nothing about the texts.
    static func signsSamePairs(
        _ a: JSONObject, _ b: JSONObject, signature: TrustPaySignature, form: NumberForm
    ) -> Bool {
        var signed = 0
        for member in a where !member.isSign {
            guard !TrustPaySignature.isEmptyForSigning(member.value) else { continue }
            signed += 1
            guard let position = b.index(forKey: member.key, fingerprint: member.fingerprint) else { return false }
            let other = b[position].value
            guard !TrustPaySignature.isEmptyForSigning(other),
                rendersAlike(member.value, other, key: member.key, signature: signature, form: form)
            else { return false }
        }
        for member in b where !member.isSign {
            if !TrustPaySignature.isEmptyForSigning(member.value) { signed -= 1 }
        }
        return signed == 0
    }

    /// ``roundTrips(_:fields:verified:signature:form:)`` for what a decoder
    /// rendered back: answered at once when the decoder saw every field it
    /// read render back as received and the body verified as transmitted.
    /// Each of those fields then signs the same pair as the member it was
    /// read from (same key, same bytes, both signed), the members no decoder
    /// read are copied as received, and `sign` is on neither side: the same
    /// pairs, so the same text (as ``signsSamePairs`` would find, in a second
    /// pass with a look-up per member).
    static func roundTrips(
        _ renderedBack: RenderedBack, fields: JSONObject, verified: [UInt8], signature: TrustPaySignature,
        form: NumberForm
    ) -> Bool {
        roundTrips(
            rendersAsTransmitted: renderedBack.rendersAsTransmitted, fields: fields, verified: verified,
            signature: signature, form: form, writtenBack: { renderedBack.object })
    }

    /// The same with the object written back made only when the answer
    /// needs it: `writtenBack` is called at most once, and not at all for a
    /// body that verified as transmitted whose fields all render back as
    /// received.
    static func roundTrips(
        rendersAsTransmitted: Bool, fields: JSONObject, verified: [UInt8], signature: TrustPaySignature,
        form: NumberForm, writtenBack: () -> JSONObject
    ) -> Bool {
        (form == .asTransmitted && rendersAsTransmitted)
            || roundTrips(writtenBack(), fields: fields, verified: verified, signature: signature, form: form)
    }

    /// Whether two values of `key` render to the same bytes in `form`.
    static func rendersAlike(
        _ a: JSONValue, _ b: JSONValue, key: String, signature: TrustPaySignature, form: NumberForm
    ) -> Bool {
        switch (a, b) {
        case let (.string(x), .string(y)): return sameBytes(x, y)
        case let (.number(x), .number(y)) where form == .asTransmitted: return sameBytes(x, y)
        default:
            var x: [UInt8] = []
            var y: [UInt8] = []
            signature.renderValue(a, of: key, in: form, into: &x)
            signature.renderValue(b, of: key, in: form, into: &y)
            return x == y
        }
    }

    /// The content hash of a verified body: the lower-case hex MD5 of its
    /// signed text followed by `&secret=` (an empty secret). For a body that
    /// verified as transmitted this is the hash earlier releases stored, so a
    /// repeat arriving after an upgrade is still a duplicate.
    static func contentHash(ofSignedText text: [UInt8], signature: TrustPaySignature) -> String {
        contentHash(ofHashedText: MD5.canonicalPrefix(signedText: text))
    }

    /// The same from the verified text already hashed up to its secret
    /// (``MD5/canonicalPrefix(signedText:)``, which verification computed):
    /// the empty secret adds nothing, so the hash is that state finalized.
    static func contentHash(ofHashedText hashed: Insecure.MD5) -> String {
        MD5.hex(hashed.finalize())
    }
}

/// What a decoder says was signed: its typed fields written back, the
/// fields it does not know as received, and whether every field it read,
/// written back, is non-empty and renders as the member it was read from
/// when numbers are signed as transmitted.
struct RenderedBack: Sendable, Equatable {
    var object: JSONObject
    var rendersAsTransmitted: Bool
}
