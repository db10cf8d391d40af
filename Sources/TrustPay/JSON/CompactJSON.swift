// Compact serialization: the project's choice for rendering nested values in a
// canonical string and for writing signed bodies. No whitespace, members in
// their stored order, numbers as their literal text, non-ASCII written as raw
// UTF-8. Strings escape only what JSON requires: `"`, `\` and control
// characters, using the short forms `\b \f \n \r \t` where they exist and
// `\u00XX` (lower-case hex) otherwise; `/` is not escaped. This is what
// ECMAScript's `JSON.stringify` produces, so a JavaScript or Python
// (`ensure_ascii=False, separators=(",", ":")`) signer agrees with it.

extension JSONValue {
    /// The compact JSON text of this value, e.g. `["RF-1","RF-2"]`.
    public var compactJSON: String { String(decoding: compactJSONBytes, as: UTF8.self) }

    /// The compact JSON text of this value as UTF-8 bytes.
    public var compactJSONBytes: [UInt8] {
        var out: [UInt8] = []
        writeCompact(into: &out)
        return out
    }

    func writeCompact(into out: inout [UInt8]) {
        switch self {
        case .null: out.append(contentsOf: "null".utf8)
        case .bool(let value): out.append(contentsOf: (value ? "true" : "false").utf8)
        case .number(let literal):
            assert(NumberLiteral(literal) != nil, "not a JSON number literal: \(literal)")
            out.appendUTF8(literal)
        case .string(let text): writeString(text, into: &out)
        case .array(let elements):
            out.append(UInt8(ascii: "["))
            for (index, element) in elements.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                element.writeCompact(into: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let object): object.writeCompact(into: &out)
        }
    }
}

extension JSONObject {
    /// The compact JSON text of this object, members in order.
    public var compactJSON: String { String(decoding: compactJSONBytes, as: UTF8.self) }

    /// The compact JSON text of this object as UTF-8 bytes, ready to send as a body.
    public var compactJSONBytes: [UInt8] {
        var out: [UInt8] = []
        writeCompact(into: &out)
        return out
    }

    func writeCompact(into out: inout [UInt8]) {
        out.append(UInt8(ascii: "{"))
        for (index, member) in members.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            writeString(member.key, into: &out)
            out.append(UInt8(ascii: ":"))
            member.value.writeCompact(into: &out)
        }
        out.append(UInt8(ascii: "}"))
    }
}

/// A compact JSON array written part by part: the same text as
/// `JSONValue.array(parts).compactJSON`, without building the values first
/// (the idempotency key and order reference of every callback are made so).
struct CompactJSONArray {
    private var out: [UInt8] = []

    // Reserved empty, then opened: reserving after an array literal allocated twice.
    init() {
        out.reserveCapacity(96)
        out.append(UInt8(ascii: "["))
    }

    mutating func append(_ text: String) {
        separate()
        writeString(text, into: &out)
    }

    /// Decimal digits, as `String(value)` writes them.
    mutating func append(_ value: Int64) {
        separate()
        if value < 0 { out.append(UInt8(ascii: "-")) }
        // Written last digit first into a buffer on the stack, then appended
        // in one piece: reversing them in `out` through a slice copied the
        // whole array each time (callgrind, BENCHMARKS.md session 11).
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)  // 24 bytes; an Int64 has at most 19 digits
        withUnsafeMutableBytes(of: &digits) { buffer in
            var start = buffer.count
            var magnitude = value.magnitude
            repeat {
                start -= 1
                buffer[start] = UInt8(ascii: "0") + UInt8(magnitude % 10)
                magnitude /= 10
            } while magnitude > 0
            out.append(contentsOf: UnsafeRawBufferPointer(rebasing: buffer[start...]))
        }
    }

    mutating func append(_ value: Int) { append(Int64(value)) }

    /// A nested array of strings.
    mutating func append(strings: [String]) {
        separate()
        // Written in place: a nested array's buffer was an allocation per
        // key, for most callbacks around an empty list.
        out.append(UInt8(ascii: "["))
        for (index, text) in strings.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            writeString(text, into: &out)
        }
        out.append(UInt8(ascii: "]"))
    }

    /// The array closed, as text: written straight into the string's
    /// storage (the parts stay open for more).
    var text: String {
        out.withUnsafeBufferPointer { parts in
            String(unsafeUninitializedCapacity: parts.count + 1) { text in
                _ = text.initialize(fromContentsOf: parts)
                text[parts.count] = UInt8(ascii: "]")
                return parts.count + 1
            }
        }
    }

    private mutating func separate() {
        if out.count > 1 { out.append(UInt8(ascii: ",")) }
    }
}

private func writeString(_ text: String, into out: inout [UInt8]) {
    out.append(UInt8(ascii: "\""))
    // Most strings need no escape: copied in one piece. Checked over the
    // contiguous bytes, not through the generic UTF8View.
    var contiguous = text
    if !contiguous.withUTF8({ $0.contains(where: needsEscape) }) {
        out.appendUTF8(text)
        out.append(UInt8(ascii: "\""))
        return
    }
    for byte in text.utf8 {
        switch byte {
        case UInt8(ascii: "\""): out.append(contentsOf: #"\""#.utf8)
        case UInt8(ascii: "\\"): out.append(contentsOf: #"\\"#.utf8)
        case 0x08: out.append(contentsOf: #"\b"#.utf8)
        case 0x0C: out.append(contentsOf: #"\f"#.utf8)
        case 0x0A: out.append(contentsOf: #"\n"#.utf8)
        case 0x0D: out.append(contentsOf: #"\r"#.utf8)
        case 0x09: out.append(contentsOf: #"\t"#.utf8)
        case 0x00..<0x20:
            out.append(contentsOf: #"\u00"#.utf8)
            out.append(hexDigit(byte >> 4))
            out.append(hexDigit(byte & 0x0F))
        default: out.append(byte)
        }
    }
    out.append(UInt8(ascii: "\""))
}

private func needsEscape(_ byte: UInt8) -> Bool {
    byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\")
}

private func hexDigit(_ nibble: UInt8) -> UInt8 {
    nibble < 10 ? UInt8(ascii: "0") + nibble : UInt8(ascii: "a") + nibble - 10
}

extension [UInt8] {
    /// Appends the UTF-8 bytes of `text` in one copy where the string is
    /// contiguous (native strings are), not byte by byte.
    mutating func appendUTF8(_ text: String) {
        let copied: Void? = text.utf8.withContiguousStorageIfAvailable { append(contentsOf: $0) }
        if copied == nil { append(contentsOf: text.utf8) }
    }
}
