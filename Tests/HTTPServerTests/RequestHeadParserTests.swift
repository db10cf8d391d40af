import Testing
@testable import HTTPServer

/// Well-formed requests parse into the right ranges, framing and connection semantics.
@Suite struct ValidRequestTests {
    @Test func getWithOriginFormTarget() {
        let request = head("GET /orders/42?verbose=1 HTTP/1.1", "Host: merchant.example", "Accept: */*")
        let (result, parsed) = parse(request)
        #expect(result == .complete)
        #expect(text(parsed.method, in: request) == "GET")
        #expect(text(parsed.target, in: request) == "/orders/42?verbose=1")
        #expect(parsed.version == .http1_1)
        #expect(parsed.headers.count == 2)
        #expect(text(parsed.headers[0].name, in: request) == "Host")
        #expect(text(parsed.headers[0].value, in: request) == "merchant.example")
        #expect(parsed.framing == .none)
        #expect(parsed.keepAlive)
        #expect(!parsed.expectContinue)
        #expect(parsed.headLength == request.count)
    }

    @Test func postWithContentLengthStopsBeforeTheBody() {
        let headBytes = head("POST /callbacks HTTP/1.1", "Host: a", "Content-Length: 5")
        let (result, parsed) = parse(headBytes + bytes("hello"))
        #expect(result == .complete)
        #expect(parsed.framing == .contentLength(5))
        #expect(parsed.headLength == headBytes.count)
    }

    @Test func chunkedPost() {
        let (result, parsed) = parse(head("POST / HTTP/1.1", "Host: a", "Transfer-Encoding: chunked"))
        #expect(result == .complete)
        #expect(parsed.framing == .chunked)
    }

    @Test func transferCodingNameIsCaseInsensitive() {
        let (result, parsed) = parse(head("POST / HTTP/1.1", "Host: a", "transfer-encoding:  Chunked "))
        #expect(result == .complete)
        #expect(parsed.framing == .chunked)
    }

    @Test func headRequest() {
        let request = head("HEAD /status HTTP/1.1", "Host: a")
        let (result, parsed) = parse(request)
        #expect(result == .complete)
        #expect(text(parsed.method, in: request) == "HEAD")
    }

    @Test func absoluteFormTargetInAnyCase() {
        for target in ["http://merchant.example/pay", "HTTPS://merchant.example:8443/", "hTTp://x"] {
            let request = head("GET \(target) HTTP/1.1", "Host: merchant.example")
            let (result, parsed) = parse(request)
            #expect(result == .complete, "\(target)")
            #expect(text(parsed.target, in: request) == target)
        }
    }

    @Test func optionsAsterisk() {
        let request = head("OPTIONS * HTTP/1.1", "Host: a")
        let (result, parsed) = parse(request)
        #expect(result == .complete)
        #expect(text(parsed.target, in: request) == "*")
    }

    @Test func leadingEmptyLinesAreSkippedButCounted() {
        let request = bytes("\r\n\r\n") + head("GET / HTTP/1.1", "Host: a")
        let (result, parsed) = parse(request)
        #expect(result == .complete)
        #expect(parsed.method == ByteRange(4, 7))
        #expect(parsed.headLength == request.count)
    }

    @Test(arguments: ["HTTP/1.2", "HTTP/1.5", "HTTP/1.9"])
    func laterHTTP1MinorVersionsAreServedAs11(version: String) {
        let (result, parsed) = parse(head("GET / \(version)", "Host: a"))
        #expect(result == .complete)
        #expect(parsed.version == .http1_1)
    }

    @Test func fieldValuesAreTrimmedOfOptionalWhitespace() {
        let request = head("GET / HTTP/1.1", "Host:a", "X-Padded: \t  two  words \t ", "X-Empty:", "X-Blank:   ")
        let (result, parsed) = parse(request)
        #expect(result == .complete)
        #expect(value("host", in: parsed, of: request) == "a")
        #expect(value("x-padded", in: parsed, of: request) == "two  words")
        #expect(value("X-EMPTY", in: parsed, of: request) == "")
        #expect(value("x-blank", in: parsed, of: request) == "")
        #expect(value("x-missing", in: parsed, of: request) == nil)
    }

    @Test func obsoleteTextIsAllowedInValues() {
        let request = bytes("GET / HTTP/1.1\r\nHost: a\r\nX-Name: caf") + [0xC3, 0xA9] + bytes("\r\n\r\n")
        let (result, parsed) = parse(request)
        #expect(result == .complete)
        #expect(value("x-name", in: parsed, of: request) == "café")
    }

    @Test func hostIsNotRequiredInHTTP10() {
        let (result, parsed) = parse(head("GET / HTTP/1.0"))
        #expect(result == .complete)
        #expect(parsed.version == .http1_0)
    }

    @Test(arguments: [
        ["Content-Length: 5", "Content-Length: 5"],
        ["Content-Length: 5, 5"],
        ["Content-Length: 5,5", "content-length: 005"],
        ["Content-Length:  5  "],
    ])
    func agreeingContentLengthsAreAccepted(fields: [String]) {
        let (result, parsed) = parse(head(["POST / HTTP/1.1", "Host: a"] + fields))
        #expect(result == .complete)
        #expect(parsed.framing == .contentLength(5))
    }

    @Test func zeroContentLength() {
        let (result, parsed) = parse(head("POST / HTTP/1.1", "Host: a", "Content-Length: 0"))
        #expect(result == .complete)
        #expect(parsed.framing == .contentLength(0))
    }
}

/// Whether the connection persists, and whether the client waits for 100 Continue.
@Suite struct ConnectionSemanticsTests {
    struct Case: Sendable, CustomTestStringConvertible {
        let version: String
        let connection: [String]
        let keepAlive: Bool
        var testDescription: String { "\(version) \(connection) → keepAlive \(keepAlive)" }
    }

    @Test(arguments: [
        Case(version: "HTTP/1.1", connection: [], keepAlive: true),
        Case(version: "HTTP/1.1", connection: ["Connection: close"], keepAlive: false),
        Case(version: "HTTP/1.1", connection: ["Connection: Keep-Alive, CLOSE"], keepAlive: false),
        Case(version: "HTTP/1.1", connection: ["Connection: upgrade", "Connection: close"], keepAlive: false),
        Case(version: "HTTP/1.1", connection: ["Connection: closed"], keepAlive: true),
        Case(version: "HTTP/1.1", connection: ["Connection: keep-alive"], keepAlive: true),
        Case(version: "HTTP/1.0", connection: [], keepAlive: false),
        Case(version: "HTTP/1.0", connection: ["Connection: keep-alive"], keepAlive: true),
        Case(version: "HTTP/1.0", connection: ["Connection: , Keep-Alive ,"], keepAlive: true),
        Case(version: "HTTP/1.0", connection: ["Connection: keep-alive, close"], keepAlive: false),
        Case(version: "HTTP/1.0", connection: ["Connection: keep-alive", "Connection: close"], keepAlive: false),
        Case(version: "HTTP/1.0", connection: ["Connection: keep-alives"], keepAlive: false),
    ])
    func keepAlive(_ testCase: Case) {
        let (result, parsed) = parse(head(["GET / \(testCase.version)", "Host: a"] + testCase.connection))
        #expect(result == .complete)
        #expect(parsed.keepAlive == testCase.keepAlive)
    }

    @Test(arguments: ["Expect: 100-continue", "expect: 100-Continue", "Expect:  100-CONTINUE "])
    func expectContinue(field: String) {
        let (result, parsed) = parse(head("POST / HTTP/1.1", "Host: a", "Content-Length: 3", field))
        #expect(result == .complete)
        #expect(parsed.expectContinue)
    }

    @Test func otherExpectationsAreIgnored() {
        let (result, parsed) = parse(head("POST / HTTP/1.1", "Host: a", "Expect: 100-continuex"))
        #expect(result == .complete)
        #expect(!parsed.expectContinue)
    }

    @Test func expectContinueIsIgnoredInHTTP10() {
        let (result, parsed) = parse(head("POST / HTTP/1.0", "Content-Length: 3", "Expect: 100-continue"))
        #expect(result == .complete)
        #expect(!parsed.expectContinue)
    }
}

/// The allocation-free helpers for reading a parsed head.
@Suite struct RequestHeadHelperTests {
    @Test func caseInsensitiveComparison() {
        let buffer = bytes("Content-Length")
        buffer.withUnsafeBytes { raw in
            #expect(ByteRange(0, 14).equalsIgnoringCase("content-length", in: raw))
            #expect(ByteRange(0, 14).equalsIgnoringCase("CONTENT-LENGTH", in: raw))
            #expect(!ByteRange(0, 14).equalsIgnoringCase("content-lengtx", in: raw))
            #expect(!ByteRange(0, 13).equalsIgnoringCase("content-length", in: raw))
            #expect(ByteRange(0, 0).equalsIgnoringCase("", in: raw))
            // Ranges outside the buffer never match, and never read outside it.
            #expect(!ByteRange(10, 24).equalsIgnoringCase("length\0\0\0\0\0\0\0\0", in: raw))
            #expect(!ByteRange(-1, 3).equalsIgnoringCase("xCon", in: raw))
            #expect(!ByteRange(5, 2).equalsIgnoringCase("", in: raw))
        }
    }

    @Test func caseFoldingIsASCIIOnly() {
        // '@' (0x40) and '`' (0x60) differ only by the case bit but are not letters.
        bytes("@").withUnsafeBytes { raw in
            #expect(!ByteRange(0, 1).equalsIgnoringCase("`", in: raw))
        }
    }

    @Test func firstValueReturnsTheFirstOfRepeatedFields() {
        let request = head("GET / HTTP/1.1", "Host: a", "X-Trace: one", "x-trace: two")
        let (_, parsed) = parse(request)
        #expect(value("X-Trace", in: parsed, of: request) == "one")
    }

    @Test func reusingAHeadKeepsHeaderStorage() {
        let request = head("GET / HTTP/1.1", "Host: a", "A: 1", "B: 2", "C: 3")
        var parsed = RequestHead()
        #expect(parse(request, into: &parsed) == .complete)
        let first = parsed
        let capacity = parsed.headers.capacity
        #expect(parse(head("GET / HTTP/1.1", "Host: b"), into: &parsed) == .complete)
        #expect(parsed.headers.count == 1)
        #expect(parse(request, into: &parsed) == .complete)
        #expect(parsed == first)
        #expect(parsed.headers.capacity >= capacity)
    }
}
