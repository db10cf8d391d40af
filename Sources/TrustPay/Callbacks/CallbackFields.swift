/// Reads typed fields out of a callback object, one name or several spellings
/// at a time, and remembers which names it knows so the rest can be kept as
/// `extra`.
///
/// A value the signature leaves out (`null`, `""`, zero, `false`, `[]`,
/// `{}`) is absent here too: what is not signed can mean nothing.
///
/// Each field read is also written back, from its typed value, into
/// ``canonical``: the object ``SignedContent`` renders and compares with the
/// verified text, so a decoder that reads more or less than was signed is
/// caught rather than trusted.
struct CallbackFields {
    let object: JSONObject
    /// Which members of ``object`` a decoder asked for (or `sign`), by
    /// position: a bit each for the first 64, which is every callback (an
    /// array of flags was an allocation per callback), then flags.
    private var knownBits: UInt64 = 0
    private var knownBeyond64: [Bool] = []
    /// A bit per bucket of the members' key fingerprints: a spelling whose
    /// bucket is clear is absent, found so without scanning the members
    /// (a callback's dozen reads look up about as many absent spellings,
    /// the older camelCase names, as present ones).
    private var presentBuckets: UInt64 = 0
    /// The fields read so far, rendered back from their typed values; left
    /// empty unless ``writesBack``.
    private(set) var canonical = JSONObject()
    /// Whether ``canonical`` is written. A decode whose body is then found
    /// signed as transmitted, with every field rendering back as received,
    /// never reads it (``SignedContent/roundTrips(rendersAsTransmitted:fields:verified:signature:form:writtenBack:)``),
    /// so the authenticator decodes without it and again with it only when
    /// it is needed.
    let writesBack: Bool
    /// Whether every field read so far, rendered back, signs exactly as
    /// received when numbers are signed as transmitted (see ``RenderedBack``).
    private var rendersAsTransmitted = true

    init(_ object: JSONObject, writingBack: Bool = true) {
        self.object = object
        writesBack = writingBack
        presentBuckets = object.withMembers { members in
            var buckets: UInt64 = 0
            for index in members.indices { buckets |= Self.bucket(members[index].fingerprint) }
            return buckets
        }
        if object.count > 64 { knownBeyond64 = Array(repeating: false, count: object.count - 64) }
        if let sign = object.index(forKey: TrustPaySignature.signKey, fingerprint: TrustPaySignature.signFingerprint) {
            markKnown(sign)
        }
        if writingBack { canonical.reserveCapacity(object.count) }
    }

    /// One of 64 buckets, from the fingerprint's bits mixed (equal keys,
    /// equal fingerprints, the same bucket).
    private static func bucket(_ fingerprint: KeyFingerprint) -> UInt64 {
        1 << ((fingerprint.bits &* 0x9E37_79B9_7F4A_7C15) >> 58)
    }

    private func isKnown(_ position: Int) -> Bool {
        position < 64 ? knownBits & (1 << UInt64(position)) != 0 : knownBeyond64[position - 64]
    }

    private mutating func markKnown(_ position: Int) {
        if position < 64 { knownBits |= 1 << UInt64(position) } else { markKnownBeyond64(position) }
    }

    // Apart, so the array's uniqueness check stays out of every read.
    @inline(never)
    private mutating func markKnownBeyond64(_ position: Int) {
        knownBeyond64[position - 64] = true
    }

    static func parse(_ body: [UInt8]) throws(CallbackDecodingError) -> JSONObject {
        let value: JSONValue
        do {
            value = try JSONValue(parsing: body)
        } catch {
            throw .invalidJSON(error)
        }
        guard case .object(let object) = value else { throw .notAnObject }
        return object
    }

    /// The value under the first present spelling; the other spellings, if
    /// present, must decode to an equal value.
    mutating func optional<T: Equatable>(
        _ spellings: FieldSpellings, as codec: FieldCodec<T>
    ) throws(CallbackDecodingError) -> T? {
        // The spelling by its index: the name is needed only for a conflict.
        var found: (spelling: Int, value: T)?
        for spelling in spellings.names.indices {
            let (name, fingerprint) = spellings.names[spelling]
            guard presentBuckets & Self.bucket(fingerprint) != 0,
                let position = object.index(forKey: name, fingerprint: fingerprint)
            else { continue }
            let readBefore = isKnown(position)
            markKnown(position)
            let raw = object[position].value
            guard !TrustPaySignature.isEmptyForSigning(raw) else { continue }
            let value = try codec.decode(name, raw)
            let encoded = codec.encode(value, raw)
            if rendersAsTransmitted {
                rendersAsTransmitted = Self.rendersAsReceived(encoded, raw, key: name)
            }
            if writesBack { writeBack(encoded, name: name, fingerprint: fingerprint, readBefore: readBefore) }
            if let found {
                guard found.value == value else {
                    throw .conflictingSpellings(spellings.names[found.spelling].name, name)
                }
            } else {
                found = (spelling, value)
            }
        }
        return found?.value
    }

    /// Writes `encoded` into ``canonical``; apart from ``optional(_:as:)``,
    /// so a decode that does not write back never checks `canonical`'s
    /// uniqueness (callgrind: a copy-on-write check per field read).
    @inline(never)
    private mutating func writeBack(_ encoded: JSONValue, name: String, fingerprint: KeyFingerprint, readBefore: Bool) {
        if readBefore {
            canonical[name] = encoded
        } else {
            // A member no decoder read before has no canonical field yet:
            // appended without looking the name up again.
            canonical.append(absentKey: name, fingerprint: fingerprint, encoded)
        }
    }

    /// Whether `encoded`, written back from `raw`, is non-empty and signs
    /// as `raw` when numbers are signed as transmitted. A string or number
    /// of the same kind and bytes as the (non-empty) `raw` is answered by
    /// comparing the bytes: it is as non-empty as `raw` and renders as its
    /// bytes, so neither emptiness nor rendering need a look of their own.
    private static func rendersAsReceived(_ encoded: JSONValue, _ raw: JSONValue, key: String) -> Bool {
        switch (encoded, raw) {
        case let (.string(x), .string(y)), let (.number(x), .number(y)): sameBytes(x, y)
        default:
            !TrustPaySignature.isEmptyForSigning(encoded)
                && SignedContent.rendersAlike(encoded, raw, key: key, signature: .standard, form: .asTransmitted)
        }
    }

    mutating func required<T: Equatable>(
        _ spellings: FieldSpellings, as codec: FieldCodec<T>
    ) throws(CallbackDecodingError) -> T {
        guard let value = try optional(spellings, as: codec) else { throw .missingField(spellings.first) }
        return value
    }

    /// The members under names no decoder asked for, in order.
    var extra: JSONObject {
        var extra = JSONObject()
        for (position, member) in object.enumerated() where !isKnown(position) {
            extra.appendIfAbsent(member.key, member.value, fingerprint: member.fingerprint)
        }
        return extra
    }

    /// ``canonical`` plus the unknown fields as received: what the typed
    /// callback says was signed. Takes ``canonical`` over (it is left
    /// empty), so its members are not copied: the last thing a decoder asks.
    mutating func takeRenderedBack() -> RenderedBack {
        guard writesBack else { return RenderedBack(object: JSONObject(), rendersAsTransmitted: rendersAsTransmitted) }
        var rendered = canonical
        canonical = JSONObject()
        for (position, member) in object.enumerated() where !isKnown(position) {
            rendered.appendIfAbsent(member.key, member.value, fingerprint: member.fingerprint)
        }
        return RenderedBack(object: rendered, rendersAsTransmitted: rendersAsTransmitted)
    }
}

/// How one field's JSON value becomes a typed value, and how that typed value
/// is written back for the round-trip check. `encode` gets the raw value only
/// to keep its JSON kind (an amount sent as a string stays a string, since
/// number forms rewrite numbers only); the content comes from the typed value.
struct FieldCodec<T: Equatable>: Sendable {
    let decode: @Sendable (String, JSONValue) throws(CallbackDecodingError) -> T
    let encode: @Sendable (T, JSONValue) -> JSONValue
}

// MARK: codecs

extension FieldCodec where T == String {
    /// A JSON string, nothing else: a number in its place would sign the same.
    static var string: FieldCodec {
        FieldCodec(
            decode: { name, value throws(CallbackDecodingError) in
                guard case .string(let text) = value else { throw .wrongType(field: name, expected: "a string") }
                return text
            },
            encode: { text, _ in .string(text) })
    }

    /// A string or a number taken as its literal text: for the unsigned
    /// risk-control request only, where some gateways send ids unquoted.
    static var lenientIdentifier: FieldCodec {
        FieldCodec(
            decode: { name, value throws(CallbackDecodingError) in
                switch value {
                case .string(let text), .number(let text): return text
                default: throw .wrongType(field: name, expected: "a string")
                }
            },
            encode: { text, raw in raw.numberLiteral != nil ? .number(text) : .string(text) })
    }

    /// A non-empty string of the documented `YYYY-MM-DD HH:MM:SS` form.
    static var payTime: FieldCodec {
        FieldCodec(
            decode: { name, value throws(CallbackDecodingError) in
                guard case .string(let text) = value, PayTime.isWellFormed(text) else {
                    throw .wrongType(field: name, expected: "a time written YYYY-MM-DD HH:MM:SS")
                }
                return text
            },
            encode: { text, _ in .string(text) })
    }
}

extension FieldCodec where T: FixedWidthInteger & Sendable {
    /// A JSON integer literal (no fraction, no exponent, no quotes) that fits `T`.
    static func integer(_ expected: String) -> FieldCodec {
        FieldCodec(
            decode: { name, value throws(CallbackDecodingError) in
                guard case .number(let text) = value, let number = NumberLiteral.integer(text, as: T.self) else {
                    throw .wrongType(field: name, expected: expected)
                }
                return number
            },
            encode: { number, _ in .number(decimalText(number)) })
    }
}

/// `String(value)`: the decimal digits, `-` first when negative, written
/// through a buffer on the stack. The generic `String(_: some
/// BinaryInteger)` cost ~900 instructions per integer field written back
/// (callgrind, BENCHMARKS.md session 11).
func decimalText<T: FixedWidthInteger>(_ value: T) -> String {
    precondition(T.bitWidth <= 128, "decimalText writes up to 39 digits")
    var room: (UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0)  // 40 bytes: 39 digits and a sign
    return withUnsafeMutableBytes(of: &room) { buffer in
        var start = buffer.count
        var magnitude = value.magnitude
        repeat {
            start -= 1
            buffer[start] = UInt8(ascii: "0") + UInt8(truncatingIfNeeded: magnitude % 10)
            magnitude /= 10
        } while magnitude != 0
        if value < 0 {
            start -= 1
            buffer[start] = UInt8(ascii: "-")
        }
        return String(decoding: UnsafeRawBufferPointer(rebasing: buffer[start...]), as: UTF8.self)
    }
}

extension FieldCodec where T == Int {
    /// `integer("an integer")`, made once: made at each read, its message
    /// was a closure context allocated per field per callback.
    static var anInteger: FieldCodec { anIntegerCodec }
}

extension FieldCodec where T == Int64 {
    /// `integer("a 64-bit integer")`, made once (see ``anInteger``).
    static var a64BitInteger: FieldCodec { a64BitIntegerCodec }
}

private let anIntegerCodec = FieldCodec<Int>.integer("an integer")
private let a64BitIntegerCodec = FieldCodec<Int64>.integer("a 64-bit integer")

extension FieldCodec where T == Amount {
    /// A JSON number or a string holding one, parsed exactly: the signature
    /// covers the text either way, and quoted amounts are common from Java
    /// and PHP gateways.
    static var amount: FieldCodec {
        FieldCodec(
            decode: { name, value throws(CallbackDecodingError) in
                switch value {
                case .number(let text), .string(let text):
                    if let amount = Amount(text) { return amount }
                default: break
                }
                throw .wrongType(field: name, expected: "a decimal amount")
            },
            encode: { amount, raw in raw.stringValue != nil ? .string(amount.description) : .number(amount.description) })
    }
}

extension FieldCodec where T == [String] {
    /// A JSON array of strings. A string holding the same text signs alike,
    /// so it is refused rather than read.
    static var stringList: FieldCodec {
        FieldCodec(
            decode: { name, value throws(CallbackDecodingError) in
                guard case .array(let elements) = value else {
                    throw .wrongType(field: name, expected: "an array of strings")
                }
                var list: [String] = []
                for element in elements {
                    guard case .string(let text) = element else {
                        throw .wrongType(field: name, expected: "an array of strings")
                    }
                    list.append(text)
                }
                return list
            },
            encode: { list, _ in .array(list.map { .string($0) }) })
    }
}

/// `YYYY-MM-DD HH:MM:SS` with plausible ranges; the time zone is the provider's.
enum PayTime {
    static func isWellFormed(_ text: String) -> Bool {
        var text = text
        return text.withUTF8 { bytes in
            guard bytes.count == 19 else { return false }
            for (index, byte) in bytes.enumerated() {
                switch index {
                case 4, 7: guard byte == UInt8(ascii: "-") else { return false }
                case 10: guard byte == UInt8(ascii: " ") else { return false }
                case 13, 16: guard byte == UInt8(ascii: ":") else { return false }
                default: guard (0x30...0x39).contains(byte) else { return false }
                }
            }
            func number(_ range: Range<Int>) -> Int { bytes[range].reduce(0) { $0 * 10 + Int($1 - 0x30) } }
            return (1...12).contains(number(5..<7)) && (1...31).contains(number(8..<10))
                && number(11..<13) < 24 && number(14..<16) < 60 && number(17..<19) < 60
        }
    }
}

/// A string quoted and escaped for a log line: control characters cannot
/// forge a new line, and long text is cut.
func logQuoted(_ text: String, limit: Int = 120) -> String {
    let cut = text.count > limit ? String(text.prefix(limit)) + "…" : text
    return JSONValue.string(cut).compactJSON
}
