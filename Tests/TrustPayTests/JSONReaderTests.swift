import Testing
@testable import TrustPay

private func parse(_ text: String) throws(JSONParseError) -> JSONValue {
    try JSONValue(parsing: Array(text.utf8))
}

/// The reason a parse failed, or `nil` if it succeeded.
private func failure(_ bytes: [UInt8], maxDepth: Int = JSONValue.defaultMaxDepth) -> JSONParseError? {
    do {
        _ = try JSONValue(parsing: bytes, maxDepth: maxDepth)
        return nil
    } catch {
        return error
    }
}

private func failure(_ text: String) -> JSONParseError? { failure(Array(text.utf8)) }

@Suite("JSON reader")
struct JSONReaderTests {
    @Test("keeps number literals exactly as transmitted")
    func keepsNumberLiterals() throws {
        let value = try parse(#"[106, 20.00, 2.50, -0, 1e5, 1.5E-3, -12.340e+2]"#)
        #expect(value == .array([.number("106"), .number("20.00"), .number("2.50"), .number("-0"),
                                 .number("1e5"), .number("1.5E-3"), .number("-12.340e+2")]))
    }

    @Test("rejects numbers outside the RFC 8259 grammar",
          arguments: ["01", "-01", "1.", ".5", "+1", "-", "1e", "1e+", "0x1F", "NaN", "Infinity", "-Infinity", "1.e3", "--1"])
    func rejectsBadNumbers(_ text: String) {
        #expect(failure(text) != nil, "accepted \(text)")
    }

    @Test("reports a leading zero as an invalid number at its position")
    func leadingZeroPosition() throws {
        let error = try #require(failure(#"{"a":012}"#))
        #expect(error.reason == .invalidNumber("leading zeros are not allowed"))
        #expect(error.byteOffset == 6)
    }

    @Test("keeps member order")
    func keepsMemberOrder() throws {
        let object = try #require(try parse(#"{"z":1,"a":2,"m":3}"#).objectValue)
        #expect(object.keys == ["z", "a", "m"])
    }

    @Test("resolves every simple escape")
    func simpleEscapes() throws {
        #expect(try parse(#""\" \\ \/ \b \f \n \r \t""#) == .string("\" \\ / \u{8} \u{C} \n \r \t"))
    }

    @Test("resolves \\u escapes, including surrogate pairs, in either case of hex")
    func unicodeEscapes() throws {
        #expect(try parse(#""\u00e9\u00C9\u4e2d""#) == .string("éÉ中"))
        #expect(try parse(#""\ud83d\ude00""#) == .string("😀"))
        #expect(try parse(#""\u0000""#) == .string("\u{0}"))
    }

    @Test("rejects unpaired or reversed surrogate escapes",
          arguments: [#""\ud83d""#, #""\ude00""#, #""\ud83dx""#, #""\ud83d\u0041""#, #""\ude00\ud83d""#])
    func unpairedSurrogates(_ text: String) throws {
        #expect(try #require(failure(text)).reason == .unpairedSurrogate)
    }

    @Test("rejects unknown escapes and short \\u escapes", arguments: [#""\x""#, #""\u12""#, #""\u12g4""#, #""\'""#])
    func invalidEscapes(_ text: String) throws {
        let reason = try #require(failure(text)).reason
        #expect(reason == .invalidEscape || reason == .unexpectedEndOfInput(expected: "four hex digits"))
    }

    @Test("accepts raw UTF-8 of every length")
    func acceptsRawUTF8() throws {
        #expect(try parse("\"é中😀\"") == .string("é中😀"))
    }

    @Test("rejects invalid UTF-8 inside strings", arguments: [
        [0x80],  // lone continuation byte
        [0xC0, 0xAF],  // overlong '/'
        [0xE0, 0x80, 0xAF],  // overlong
        [0xED, 0xA0, 0x80],  // UTF-8 encoded surrogate
        [0xF4, 0x90, 0x80, 0x80],  // above U+10FFFF
        [0xF5, 0x80, 0x80, 0x80],
        [0xE4, 0xB8],  // truncated
        [0xFF],
    ] as [[UInt8]])
    func rejectsInvalidUTF8(_ inner: [UInt8]) throws {
        let bytes = [UInt8(ascii: "\"")] + inner + [UInt8(ascii: "\"")]
        #expect(try #require(failure(bytes)).reason == .invalidUTF8)
    }

    @Test("rejects raw control characters inside strings")
    func rejectsControlCharacters() throws {
        #expect(try #require(failure("\"a\nb\"")).reason == .controlCharacterInString(0x0A))
        #expect(try #require(failure([0x22, 0x00, 0x22])).reason == .controlCharacterInString(0))
    }

    @Test("rejects a duplicate key, naming it and pointing at the second occurrence")
    func rejectsDuplicateKeys() throws {
        let error = try #require(failure(#"{"sign":"a","order_no":"1","sign":"b"}"#))
        #expect(error.reason == .duplicateKey("sign"))
        #expect(error.byteOffset == 27)
        #expect(try #require(failure(#"{"a":{"b":1,"b":1}}"#)).reason == .duplicateKey("b"))
    }

    @Test("a key written with escapes is the key it decodes to: a duplicate of its plain spelling, `sign` found")
    func escapedKeysAreTheirDecodedText() throws {
        // The reader fingerprints a plain key from the bytes between its
        // quotes; an escaped key must be fingerprinted from its decoded text.
        let error = try #require(failure(#"{"order_no":"1","order\u005fno":"2"}"#))
        #expect(error.reason == .duplicateKey("order_no"))
        #expect(try #require(failure(#"{"s\u0069gn":"a","sign":"b"}"#)).reason == .duplicateKey("sign"))
        let parsed = try #require(
            try JSONValue(parsing: Array(#"{"s\u0069gn":"x","order_amount":1}"#.utf8)).objectValue)
        #expect(parsed.signValue == .string("x"))
        #expect(parsed.index(forKey: "order_amount") == 1)
    }

    @Test("treats keys that differ only in Unicode normalisation as different keys")
    func keysCompareByBytes() throws {
        let object = try #require(try parse("{\"\u{E9}\":1,\"e\u{301}\":2}").objectValue)
        #expect(object.count == 2)
        #expect(object["\u{E9}"] == .number("1"))
        #expect(object["e\u{301}"] == .number("2"))
    }

    @Test("enforces the nesting limit")
    func depthLimit() throws {
        let nested = { (depth: Int) in Array((String(repeating: "[", count: depth) + String(repeating: "]", count: depth)).utf8) }
        #expect(failure(nested(32)) == nil)
        #expect(try #require(failure(nested(33))).reason == .nestingTooDeep(limit: 32))
        #expect(failure(nested(3), maxDepth: 2)?.reason == .nestingTooDeep(limit: 2))
        #expect(failure(Array(String(repeating: "[", count: 100_000).utf8)) != nil)
    }

    @Test("rejects anything after the value", arguments: [#"{} {}"#, #"{}x"#, "1 2", #"{"a":1},"#, "null\u{0}"])
    func trailingGarbage(_ text: String) throws {
        #expect(try #require(failure(text)).reason == .trailingCharacters)
    }

    @Test("allows only RFC 8259 whitespace around tokens")
    func whitespace() throws {
        #expect(try parse(" \t\r\n{ \"a\" : [ 1 , true ] }\n") == ["a": [1, true]])
        #expect(failure("\u{A0}{}") != nil)
        #expect(failure([0xEF, 0xBB, 0xBF] + Array("{}".utf8)) != nil, "a byte-order mark is not JSON")
    }

    @Test("rejects truncated and malformed structures",
          arguments: ["", "{", "[", #"{"a""#, #"{"a":"#, #"{"a":1"#, "[1,]", #"{"a":1,}"#, "{a:1}", "[1 2]", #""abc"#, "tru", "nul", "{'a':1}"])
    func malformedStructures(_ text: String) {
        #expect(failure(text) != nil, "accepted \(text)")
    }

    @Test("reports line and column of the offending byte")
    func positions() throws {
        let error = try #require(failure("{\n  \"a\": 1,\n  \"b\": x\n}"))
        #expect(error.line == 3)
        #expect(error.column == 8)
        #expect(error.description.contains("line 3, column 8"))
    }

    @Test("accepts scalars at the top level")
    func scalarDocuments() throws {
        #expect(try parse("null") == .null)
        #expect(try parse("false") == .bool(false))
        #expect(try parse(#""x""#) == .string("x"))
    }

    @Test("parses from any collection of bytes")
    func parsesSlices() throws {
        let bytes = Array("xx{\"a\":1}yy".utf8)
        #expect(try JSONValue(parsing: bytes[2..<9]) == ["a": 1])
    }
}

@Suite("JSON object")
struct JSONObjectTests {
    @Test("replaces in place, appends new keys and removes without reordering")
    func mutation() {
        var object: JSONObject = ["a": 1, "b": 2, "c": 3]
        object["b"] = "two"
        object["d"] = 4
        object["a"] = nil
        #expect(object.keys == ["b", "c", "d"])
        #expect(object["b"] == "two")
        #expect(object["a"] == nil)
        object["c"] = nil
        #expect(object["d"] == 4)
        #expect(object.keys == ["b", "d"])
    }

    @Test("refuses to build from pairs with a repeated key")
    func duplicatePairs() {
        #expect(throws: JSONObject.DuplicateKeyError(key: "a")) {
            try JSONObject([("a", .null), ("b", .null), ("a", .bool(true))])
        }
    }

    @Test("equality depends on member order")
    func orderedEquality() {
        let ab: JSONObject = ["a": 1, "b": 2]
        let ba: JSONObject = ["b": 2, "a": 1]
        #expect(ab != ba)
    }

    @Test("small objects scan, large ones index: both find, replace, refuse and remove alike",
          arguments: [3, JSONObject.linearLimit, JSONObject.linearLimit + 1, 3 * JSONObject.linearLimit])
    func lookupsAcrossTheIndexThreshold(count: Int) throws {
        // Same lengths on purpose, and a key that differs only in normalisation.
        var keys = (0..<count).map { "k\(1000 + $0)" }
        keys[count / 2] = "caf\u{E9}"
        var object = JSONObject()
        for (position, key) in keys.enumerated() {
            let appended = object.appendIfAbsent(key, .integer(position))
            #expect(appended)
        }
        for (position, key) in keys.enumerated() {
            let appendedAgain = object.appendIfAbsent(key, .null)
            #expect(!appendedAgain)
            #expect(object[key] == .integer(position))
            #expect(object.index(forKey: key) == position)
        }
        #expect(object["cafe\u{301}"] == nil)
        #expect(object["k999"] == nil)
        object[keys[0]] = "first"
        #expect(object.keys == keys)
        let removed = object.removeValue(forKey: keys[1])
        #expect(removed == .integer(1))
        #expect(object.keys == [keys[0]] + keys[2...])
        for (position, key) in keys.enumerated() where position > 1 {
            #expect(object[key] == .integer(position))
            #expect(object.index(forKey: key) == position - 1)
        }
        #expect(object[keys[0]] == "first")
        #expect(object[keys[1]] == nil)
        #expect(throws: JSONObject.DuplicateKeyError(key: keys[count - 1])) {
            try JSONObject(keys.map { ($0, JSONValue.null) } + [(keys[count - 1], .null)])
        }
    }

    @Test("keys that share a fingerprint are still told apart by their bytes")
    func lookupsByFingerprintCompareWholeKeys() throws {
        // Same length and first seven bytes (only the bytes after differ),
        // a NUL where another key is padded, 7 against 8 bytes, and lengths
        // past the fingerprint's 255.
        let keys = [
            "order_amount", "order_amounX", "order_a", "order_am", "order_an", "ab", "ab\u{0}", "a\u{0}b",
            String(repeating: "k", count: 300), String(repeating: "k", count: 299) + "j",
            String(repeating: "k", count: 256),
        ]
        var object = JSONObject()
        for (position, key) in keys.enumerated() {
            let appended = object.appendIfAbsent(key, .integer(position))
            #expect(appended)
        }
        for (position, key) in keys.enumerated() {
            #expect(object.index(forKey: key) == position)
            let appendedAgain = object.appendIfAbsent(key, .null)
            #expect(!appendedAgain)
        }
        #expect(object["order_amounY"] == nil)
        #expect(object["a"] == nil)
        #expect(object[String(repeating: "k", count: 257)] == nil)
        let parsed = try #require(try JSONValue(parsing: Array(#"{"sign":"x","sigm":1,"signs":2}"#.utf8)).objectValue)
        #expect(parsed.signValue == .string("x"))
        #expect(parsed.filter(\.isSign).map(\.key) == ["sign"])
    }

    @Test("number literals compare as text, not as quantities")
    func literalEquality() {
        #expect(JSONValue.number("1.0") != .number("1"))
    }
}

@Suite("Compact JSON writer")
struct CompactJSONTests {
    @Test("writes arrays and objects without whitespace, in member order")
    func compact() {
        let value: JSONValue = ["b": ["RF-1", "RF-2"], "a": ["x": nil, "y": false], "n": .number("20.00")]
        #expect(value.compactJSON == #"{"b":["RF-1","RF-2"],"a":{"x":null,"y":false},"n":20.00}"#)
    }

    @Test("escapes only quotes, backslashes and control characters; non-ASCII stays UTF-8")
    func minimalEscaping() {
        let value = JSONValue.string("q\" b\\ / é 中 😀 \n\t\r\u{8}\u{C}\u{1}\u{1F}\u{7F}")
        #expect(value.compactJSON == #""q\" b\\ / é 中 😀 \n\t\r\b\f\u0001\u001f"# + "\u{7F}\"")
    }

    @Test("what it writes parses back to the same value")
    func roundTrip() throws {
        let value: JSONValue = ["k\"ey": ["\u{0}", "é", 1, .number("-2.50e3"), true, nil, [:], []]]
        #expect(try JSONValue(parsing: value.compactJSONBytes) == value)
    }
}
