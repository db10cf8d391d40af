extension JSONValue {
    /// How deeply arrays and objects may nest by default. Callbacks are flat;
    /// the limit only stops hostile bodies from exhausting the stack.
    public static let defaultMaxDepth = 32

    /// Parses one JSON value (RFC 8259), strictly.
    ///
    /// Rejects invalid UTF-8, unescaped control characters in strings, unpaired
    /// surrogate escapes, duplicate keys in an object, nesting deeper than
    /// `maxDepth`, a byte-order mark and anything after the value except
    /// whitespace. Number literals are kept as transmitted.
    ///
    /// ```swift
    /// let value = try JSONValue(parsing: Array(#"{"fee":2.50}"#.utf8))
    /// value.objectValue?["fee"]  // .number("2.50")
    /// ```
    public init(parsing bytes: some Collection<UInt8>, maxDepth: Int = JSONValue.defaultMaxDepth) throws(JSONParseError) {
        try self.init(parsing: Array(bytes), maxDepth: maxDepth)
    }

    /// Parses one JSON value from an array: the callers' usual case, without
    /// the generic conversion (other modules cannot specialize it).
    public init(parsing bytes: [UInt8], maxDepth: Int = JSONValue.defaultMaxDepth) throws(JSONParseError) {
        var reader = JSONReader(bytes: bytes, maxDepth: maxDepth)
        self = try reader.document()
    }
}

/// A recursive-descent reader over a byte buffer. Internal: ``JSONValue/init(parsing:maxDepth:)``
/// is the entry point.
private struct JSONReader {
    let bytes: [UInt8]
    let maxDepth: Int
    var i = 0
    /// Whether the last string read had escapes: when not, its text is the
    /// bytes between its quotes, and a key's fingerprint is taken from them.
    private var lastStringWasEscaped = false

    init(bytes: [UInt8], maxDepth: Int) {
        self.bytes = bytes
        self.maxDepth = maxDepth
    }

    mutating func document() throws(JSONParseError) -> JSONValue {
        skipWhitespace()
        let value = try value(depth: 0)
        skipWhitespace()
        guard i == bytes.count else { throw fail(.trailingCharacters) }
        return value
    }

    // MARK: values

    private mutating func value(depth: Int) throws(JSONParseError) -> JSONValue {
        guard i < bytes.count else { throw fail(.unexpectedEndOfInput(expected: "a value")) }
        switch bytes[i] {
        case UInt8(ascii: "{"): return .object(try object(depth: depth + 1))
        case UInt8(ascii: "["): return .array(try array(depth: depth + 1))
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "t"): try literal("true"); return .bool(true)
        case UInt8(ascii: "f"): try literal("false"); return .bool(false)
        case UInt8(ascii: "n"): try literal("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try number())
        case let byte: throw fail(.unexpectedByte(byte, expected: "a value"))
        }
    }

    private mutating func object(depth: Int) throws(JSONParseError) -> JSONObject {
        guard depth <= maxDepth else { throw fail(.nestingTooDeep(limit: maxDepth)) }
        i += 1  // {
        var object = JSONObject()
        // A callback's dozen fields, without growing the array four times on the way.
        if depth == 1 { object.reserveCapacity(JSONObject.linearLimit) }
        skipWhitespace()
        if try peek(expected: "a member name or '}'") == UInt8(ascii: "}") {
            i += 1
            return object
        }
        while true {
            skipWhitespace()
            let keyOffset = i
            guard try peek(expected: "a member name") == UInt8(ascii: "\"") else {
                throw fail(.unexpectedByte(bytes[i], expected: "a member name in double quotes"))
            }
            let key = try string()
            let fingerprint =
                lastStringWasEscaped
                ? KeyFingerprint(key)
                : bytes.withUnsafeBufferPointer { [i] in
                    KeyFingerprint(bytes: UnsafeBufferPointer(rebasing: $0[(keyOffset + 1)..<(i - 1)]))
                }
            skipWhitespace()
            try expect(UInt8(ascii: ":"), "':' after the member name")
            skipWhitespace()
            let member = try value(depth: depth)
            guard object.appendIfAbsent(key, member, fingerprint: fingerprint) else {
                throw fail(.duplicateKey(key), at: keyOffset)
            }
            skipWhitespace()
            switch try peek(expected: "',' or '}'") {
            case UInt8(ascii: ","): i += 1
            case UInt8(ascii: "}"): i += 1; return object
            case let byte: throw fail(.unexpectedByte(byte, expected: "',' or '}'"))
            }
        }
    }

    private mutating func array(depth: Int) throws(JSONParseError) -> [JSONValue] {
        guard depth <= maxDepth else { throw fail(.nestingTooDeep(limit: maxDepth)) }
        i += 1  // [
        var elements: [JSONValue] = []
        skipWhitespace()
        if try peek(expected: "a value or ']'") == UInt8(ascii: "]") {
            i += 1
            return elements
        }
        while true {
            skipWhitespace()
            elements.append(try value(depth: depth))
            skipWhitespace()
            switch try peek(expected: "',' or ']'") {
            case UInt8(ascii: ","): i += 1
            case UInt8(ascii: "]"): i += 1; return elements
            case let byte: throw fail(.unexpectedByte(byte, expected: "',' or ']'"))
            }
        }
    }

    private mutating func literal(_ word: StaticString) throws(JSONParseError) {
        let expected = "'\(word)'"
        for byte in word.withUTF8Buffer(Array.init) {
            guard i < bytes.count else { throw fail(.unexpectedEndOfInput(expected: expected)) }
            guard bytes[i] == byte else { throw fail(.unexpectedByte(bytes[i], expected: expected)) }
            i += 1
        }
    }

    private mutating func number() throws(JSONParseError) -> String {
        switch NumberLiteral.scan(bytes, from: i) {
        case .success(let layout):
            defer { i = layout.end }
            // Over the buffer, not an `ArraySlice` (which retains and releases the array).
            return bytes.withUnsafeBufferPointer { [i] in
                String(decoding: UnsafeBufferPointer(rebasing: $0[i..<layout.end]), as: UTF8.self)
            }
        case .failure(let failure):
            throw fail(.invalidNumber(failure.why), at: failure.offset)
        }
    }

    // MARK: strings

    private mutating func string() throws(JSONParseError) -> String {
        i += 1  // opening quote
        let start = i
        // Printable ASCII without escapes, what a callback's names and values
        // are, scanned over the buffer in a tight loop first (the byte-by-byte
        // loop below, with its checked subscripts, was a callback's largest
        // parsing cost: callgrind, BENCHMARKS.md session 11). What stops the
        // scan (a quote, a backslash, a control or a non-ASCII byte, the
        // end) is handled by that loop, from there.
        let plainEnd = bytes.withUnsafeBufferPointer { buffer in
            var end = start
            while end < buffer.count {
                let byte = buffer[end]
                guard byte >= 0x20, byte < 0x80, byte != UInt8(ascii: "\""), byte != UInt8(ascii: "\\") else { break }
                end += 1
            }
            return end
        }
        i = plainEnd
        var decoded: [UInt8]? = nil  // only allocated once an escape is seen
        while true {
            guard i < bytes.count else { throw fail(.unexpectedEndOfInput(expected: "a closing '\"'")) }
            let byte = bytes[i]
            switch byte {
            case UInt8(ascii: "\""):
                defer { i += 1 }
                lastStringWasEscaped = decoded != nil
                if let decoded { return String(decoding: decoded, as: UTF8.self) }
                // Over the buffer, not an `ArraySlice` (which retains and releases the array).
                return bytes.withUnsafeBufferPointer { [i] in
                    String(decoding: UnsafeBufferPointer(rebasing: $0[start..<i]), as: UTF8.self)
                }
            case UInt8(ascii: "\\"):
                if decoded == nil { decoded = Array(bytes[start..<i]) }
                try escape(into: &decoded!)
            case 0x00..<0x20:
                throw fail(.controlCharacterInString(byte))
            case 0x20..<0x80:
                decoded?.append(byte)
                i += 1
            default:
                let length = try utf8Sequence()
                decoded?.append(contentsOf: bytes[i..<(i + length)])
                i += length
            }
        }
    }

    private mutating func escape(into out: inout [UInt8]) throws(JSONParseError) {
        let start = i
        i += 1  // backslash
        guard i < bytes.count else { throw fail(.unexpectedEndOfInput(expected: "an escape sequence")) }
        let simple: UInt8? =
            switch bytes[i] {
            case UInt8(ascii: "\""): 0x22
            case UInt8(ascii: "\\"): 0x5C
            case UInt8(ascii: "/"): 0x2F
            case UInt8(ascii: "b"): 0x08
            case UInt8(ascii: "f"): 0x0C
            case UInt8(ascii: "n"): 0x0A
            case UInt8(ascii: "r"): 0x0D
            case UInt8(ascii: "t"): 0x09
            default: nil
            }
        if let simple {
            out.append(simple)
            i += 1
            return
        }
        guard bytes[i] == UInt8(ascii: "u") else { throw fail(.invalidEscape, at: start) }
        i += 1
        var scalar = try hex4(escapeStart: start)
        if (0xDC00...0xDFFF).contains(scalar) { throw fail(.unpairedSurrogate, at: start) }
        if (0xD800...0xDBFF).contains(scalar) {
            let lowStart = i
            guard i + 1 < bytes.count, bytes[i] == UInt8(ascii: "\\"), bytes[i + 1] == UInt8(ascii: "u") else {
                throw fail(.unpairedSurrogate, at: start)
            }
            i += 2
            let low = try hex4(escapeStart: lowStart)
            guard (0xDC00...0xDFFF).contains(low) else { throw fail(.unpairedSurrogate, at: start) }
            scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
        }
        // Surrogates were excluded above, so this always succeeds.
        out.append(contentsOf: UTF8.encode(Unicode.Scalar(scalar)!)!)
    }

    private mutating func hex4(escapeStart: Int) throws(JSONParseError) -> UInt32 {
        var value: UInt32 = 0
        for _ in 0..<4 {
            guard i < bytes.count else { throw fail(.unexpectedEndOfInput(expected: "four hex digits")) }
            let digit: UInt32
            switch bytes[i] {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(bytes[i] - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt32(bytes[i] - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt32(bytes[i] - UInt8(ascii: "A") + 10)
            default: throw fail(.invalidEscape, at: escapeStart)
            }
            value = value << 4 | digit
            i += 1
        }
        return value
    }

    /// Validates the multi-byte UTF-8 sequence at `i` (Unicode Table 3-7:
    /// no overlong forms, no surrogates, nothing above U+10FFFF); returns its length.
    private func utf8Sequence() throws(JSONParseError) -> Int {
        let lead = bytes[i]
        let length: Int
        var secondRange: ClosedRange<UInt8> = 0x80...0xBF
        switch lead {
        case 0xC2...0xDF: length = 2
        case 0xE0: length = 3; secondRange = 0xA0...0xBF
        case 0xE1...0xEC, 0xEE...0xEF: length = 3
        case 0xED: length = 3; secondRange = 0x80...0x9F
        case 0xF0: length = 4; secondRange = 0x90...0xBF
        case 0xF1...0xF3: length = 4
        case 0xF4: length = 4; secondRange = 0x80...0x8F
        default: throw fail(.invalidUTF8)
        }
        guard i + length <= bytes.count else { throw fail(.invalidUTF8) }
        guard secondRange.contains(bytes[i + 1]) else { throw fail(.invalidUTF8) }
        for index in (i + 2)..<(i + length) where !(0x80...0xBF).contains(bytes[index]) {
            throw fail(.invalidUTF8)
        }
        return length
    }

    // MARK: helpers

    private mutating func skipWhitespace() {
        while i < bytes.count {
            switch bytes[i] {
            case 0x20, 0x09, 0x0A, 0x0D: i += 1
            default: return
            }
        }
    }

    private func peek(expected: String) throws(JSONParseError) -> UInt8 {
        guard i < bytes.count else { throw fail(.unexpectedEndOfInput(expected: expected)) }
        return bytes[i]
    }

    private mutating func expect(_ byte: UInt8, _ expected: String) throws(JSONParseError) {
        guard try peek(expected: expected) == byte else {
            throw fail(.unexpectedByte(bytes[i], expected: expected))
        }
        i += 1
    }

    private func fail(_ reason: JSONParseError.Reason, at offset: Int? = nil) -> JSONParseError {
        JSONParseError(reason, at: offset ?? i, in: bytes)
    }
}
