import Testing
@testable import HTTPServer

/// A chunked body that must decode, and what it decodes to.
struct ChunkedCase: Sendable, CustomTestStringConvertible {
    let why: String
    let wire: [UInt8]
    let body: String
    var testDescription: String { why }

    init(_ why: String, _ wire: String, _ body: String) {
        self.why = why
        self.wire = bytes(wire)
        self.body = body
    }
}

let validChunkedBodies: [ChunkedCase] = [
    ChunkedCase("one chunk", "5\r\nhello\r\n0\r\n\r\n", "hello"),
    ChunkedCase("several chunks", "3\r\nabc\r\n1\r\nd\r\n2\r\nef\r\n0\r\n\r\n", "abcdef"),
    ChunkedCase("zero-length body", "0\r\n\r\n", ""),
    ChunkedCase("lower-case hex", "a\r\n0123456789\r\n0\r\n\r\n", "0123456789"),
    ChunkedCase("upper-case hex", "A\r\n0123456789\r\n0\r\n\r\n", "0123456789"),
    ChunkedCase("leading zeros", "0005\r\nhello\r\n0000\r\n\r\n", "hello"),
    ChunkedCase("many leading zeros", String(repeating: "0", count: 40) + "1\r\nx\r\n0\r\n\r\n", "x"),
    ChunkedCase("extension", "5;name=value\r\nhello\r\n0;last\r\n\r\n", "hello"),
    ChunkedCase("extension after whitespace", "5 \t;name\r\nhello\r\n0\r\n\r\n", "hello"),
    ChunkedCase("quoted extension value", "5;a=\"b c\";d\r\nhello\r\n0\r\n\r\n", "hello"),
    ChunkedCase("extension with BWS around = and ;", "5 ; a = b ;c\r\nhello\r\n0\r\n\r\n", "hello"),
    ChunkedCase("quoted value with escaped quote and semicolon", "5;a=\"x\\\";y\"\r\nhello\r\n0\r\n\r\n", "hello"),
    ChunkedCase("trailer fields", "5\r\nhello\r\n0\r\nX-Checksum: abc\r\nX-Other:\r\n\r\n", "hello"),
    ChunkedCase("data containing CRLF", "4\r\n\r\n\r\n\r\n0\r\n\r\n", "\r\n\r\n"),
]

@Suite struct ChunkedDecoderTests {
    @Test(arguments: validChunkedBodies)
    func decodesInOneCall(_ testCase: ChunkedCase) {
        let (result, body) = decodeChunked(testCase.wire)
        #expect(result == .done(consumed: testCase.wire.count))
        #expect(String(decoding: body, as: UTF8.self) == testCase.body)
    }

    @Test(arguments: validChunkedBodies)
    func decodesOneByteAtATime(_ testCase: ChunkedCase) {
        var decoder = ChunkedDecoder(maxBodyBytes: 1024)
        var body: [UInt8] = []
        for (offset, byte) in testCase.wire.enumerated() {
            let result = [byte].withUnsafeBytes { decoder.decode($0, into: &body) }
            if offset == testCase.wire.count - 1 {
                #expect(result == .done(consumed: 1))
            } else {
                #expect(result == .needMore(consumed: 1), "byte \(offset)")
            }
        }
        #expect(String(decoding: body, as: UTF8.self) == testCase.body)
    }

    @Test func bytesAfterTheLastChunkAreLeftForTheNextRequest() {
        let wire = bytes("2\r\nok\r\n0\r\n\r\n")
        let (result, body) = decodeChunked(wire + bytes("GET / HTTP/1.1\r\n"))
        #expect(result == .done(consumed: wire.count))
        #expect(body == bytes("ok"))
    }

    @Test func keepsReportingDoneAndInvalid() {
        var decoder = ChunkedDecoder(maxBodyBytes: 100)
        var body: [UInt8] = []
        #expect(bytes("0\r\n\r\nX").withUnsafeBytes { decoder.decode($0, into: &body) } == .done(consumed: 5))
        #expect(bytes("more").withUnsafeBytes { decoder.decode($0, into: &body) } == .done(consumed: 0))

        var broken = ChunkedDecoder(maxBodyBytes: 100)
        let first = bytes("z").withUnsafeBytes { broken.decode($0, into: &body) }
        guard case .invalid = first else {
            Issue.record("expected invalid, got \(first)")
            return
        }
        #expect(bytes("0\r\n\r\n").withUnsafeBytes { broken.decode($0, into: &body) } == first)
    }

    @Test func needMoreConsumesEverything() {
        let (result, body) = decodeChunked(bytes("5;ext\r\nhel"))
        #expect(result == .needMore(consumed: 10))
        #expect(body == bytes("hel"))
        #expect(decodeChunked([]).0 == .needMore(consumed: 0))
    }

    @Test func continuesAcrossCalls() {
        var decoder = ChunkedDecoder(maxBodyBytes: 100)
        var body: [UInt8] = []
        let parts = ["1", "0\r\n0123", "456789ab", "cdef\r", "\n0\r\nX: y", "\r\n\r", "\nNEXT"]
        var results: [ChunkedDecodeResult] = []
        for part in parts {
            results.append(bytes(part).withUnsafeBytes { decoder.decode($0, into: &body) })
        }
        #expect(results.last == .done(consumed: 1))
        #expect(results.dropLast().allSatisfy { if case .needMore = $0 { true } else { false } })
        #expect(String(decoding: body, as: UTF8.self) == "0123456789abcdef")
    }
}

/// Malformed chunked framing is refused with the right status.
@Suite struct ChunkedDecoderRejectionTests {
    @Test(arguments: [
        Rejection("size overflow", "fffffffffffffffffff\r\n"),
        Rejection("size of 2^64", "10000000000000000\r\nx"),
        Rejection("size just over Int.max", "8000000000000000\r\n"),
        Rejection("empty size", "\r\nhello\r\n0\r\n\r\n"),
        Rejection("extension without size", ";a\r\n"),
        Rejection("non-hex size", "g\r\n"),
        Rejection("signed size", "+5\r\nhello\r\n"),
        Rejection("0x prefix", "0x5\r\nhello\r\n"),
        Rejection("whitespace before size", " 5\r\nhello\r\n"),
        Rejection("whitespace after size without extension", "5 \r\nhello\r\n0\r\n\r\n"),
        Rejection("bare LF after size", "5\nhello\r\n0\r\n\r\n"),
        Rejection("bare CR after size", "5\rhello\r\n"),
        Rejection("bare LF after extension", "5;a=b\nhello\r\n"),
        Rejection("control byte in extension", "5;a=\u{1}\r\nhello\r\n"),
        Rejection("semicolon without an extension name", "2;\r\nhi\r\n0\r\n\r\n"),
        Rejection("extension name that is not a token", "2;a@b\r\nhi\r\n0\r\n\r\n"),
        Rejection("equals without a value", "2;a=\r\nhi\r\n0\r\n\r\n"),
        Rejection("two values", "2;a=b c\r\nhi\r\n0\r\n\r\n"),
        Rejection("unterminated quoted value", "2;a=\"b\r\nhi\r\n0\r\n\r\n"),
        Rejection("data longer than its size", "5\r\nhelloX\r\n0\r\n\r\n"),
        Rejection("data shorter than its size", "5\r\nhell\r\n0\r\n\r\n"),
        Rejection("bare LF after data", "5\r\nhello\n0\r\n\r\n"),
        Rejection("bare CR after data", "5\r\nhello\r0\r\n\r\n"),
        Rejection("chunk-size line too long", "5;" + String(repeating: "e", count: 4096) + "\r\n"),
        Rejection("obs-fold in trailer", "0\r\nX: a\r\n b\r\n\r\n"),
        Rejection("whitespace before trailer colon", "0\r\nX : a\r\n\r\n"),
        Rejection("empty trailer name", "0\r\n: a\r\n\r\n"),
        Rejection("trailer without colon", "0\r\nX\r\n\r\n"),
        Rejection("bare LF in trailer", "0\r\nX: a\n\r\n"),
        Rejection("NUL in trailer value", "0\r\nX: \u{0}\r\n\r\n"),
        Rejection("bare LF ends trailer section", "0\r\n\n"),
        Rejection("bare CR ends trailer section", "0\r\n\rX"),
    ])
    func isRejected(_ rejection: Rejection) {
        let (result, _) = decodeChunked(rejection.request)
        guard case .invalid(let error) = result else {
            Issue.record("expected status \(rejection.status), got \(result)")
            return
        }
        #expect(error.statusCode == rejection.status, "\(error.reason)")
    }

    @Test func chunkLineAtTheLengthBoundIsAccepted() {
        let line = "5;" + String(repeating: "e", count: ChunkedDecoder.maxChunkLineBytes - 2)
        #expect(decodeChunked(bytes(line + "\r\nhello\r\n0\r\n\r\n")).0 == .done(consumed: line.utf8.count + 14))
    }

    @Test func oversizedChunkIsRefusedBeforeItsDataArrives() {
        let (result, body) = decodeChunked(bytes("b\r\n"), maxBodyBytes: 10)
        #expect(result == .invalid(.payloadTooLarge))
        #expect(body.isEmpty)
    }

    @Test func runningTotalOverTheLimitIs413() {
        let (result, body) = decodeChunked(bytes("5\r\nhello\r\n6\r\nworld!\r\n0\r\n\r\n"), maxBodyBytes: 10)
        #expect(result == .invalid(.payloadTooLarge))
        #expect(body == bytes("hello"))
    }

    @Test func hugeDeclaredSizeIs413() {
        #expect(decodeChunked(bytes("7fffffffffffffff\r\n")).0 == .invalid(.payloadTooLarge))
    }

    @Test func bodyExactlyAtTheLimitIsAccepted() {
        let wire = bytes("5\r\nhello\r\n5\r\nworld\r\n0\r\n\r\n")
        let (result, body) = decodeChunked(wire, maxBodyBytes: 10)
        #expect(result == .done(consumed: wire.count))
        #expect(body.count == 10)
    }

    @Test func trailerSectionOverTheLimitIs431() {
        let trailer = "X: " + String(repeating: "t", count: 20) + "\r\n\r\n"  // 27 bytes
        #expect(decodeChunked(bytes("0\r\n" + trailer), maxTrailerBytes: 26).0 == .invalid(.headersTooLarge))
        #expect(decodeChunked(bytes("0\r\n" + trailer), maxTrailerBytes: 27).0 == .done(consumed: 30))
        // An endless trailer is refused without waiting for its end.
        let endless = bytes("0\r\nX: " + String(repeating: "t", count: 100))
        #expect(decodeChunked(endless, maxTrailerBytes: 64).0 == .invalid(.headersTooLarge))
    }
}
