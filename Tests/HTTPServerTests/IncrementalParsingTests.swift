import Testing
@testable import HTTPServer

/// Requests that must parse, used wherever any valid request will do.
let validRequests: [[UInt8]] = [
    head("GET /orders/42?verbose=1 HTTP/1.1", "Host: merchant.example", "Accept: */*"),
    head("POST /callbacks HTTP/1.1", "Host: a", "Content-Type: application/json", "Content-Length: 17"),
    head("POST /callbacks HTTP/1.1", "Host: a", "Transfer-Encoding: chunked", "Expect: 100-continue"),
    head("HEAD / HTTP/1.1", "Host: a", "Connection: close"),
    head("GET / HTTP/1.0"),
    head("GET / HTTP/1.0", "Connection: keep-alive", "X-Empty:"),
    head("GET http://merchant.example/pay HTTP/1.1", "Host: merchant.example"),
    head("OPTIONS * HTTP/1.1", "Host: a", "X-Padded: \t spaced \t "),
    head("DELETE /x HTTP/1.7", "Host: a", "Content-Length: 0, 0"),
    bytes("\r\n\r\n") + head("GET / HTTP/1.1", "Host: a"),
]

/// However the bytes arrive, the parser reaches the same head, and only at
/// the last byte of it.
@Suite struct SplitReadTests {
    @Test(arguments: validRequests)
    func oneByteAtATime(request: [UInt8]) {
        let (whole, expected) = parse(request)
        #expect(whole == .complete)
        var parsed = RequestHead()
        for length in 0..<request.count {
            let result = parse(Array(request.prefix(length)), into: &parsed)
            #expect(result == .incomplete, "prefix of \(length) bytes")
        }
        #expect(parse(request, into: &parsed) == .complete)
        #expect(parsed == expected)
    }

    @Test(arguments: validRequests)
    func trailingBytesDoNotChangeTheHead(request: [UInt8]) {
        let (_, expected) = parse(request)
        let (result, parsed) = parse(request + bytes("GET / HTTP/1.1\r\n"))
        #expect(result == .complete)
        #expect(parsed == expected)
    }

    @Test func emptyBufferIsIncomplete() {
        #expect(parse([]).0 == .incomplete)
        #expect(parse(bytes("\r\n")).0 == .incomplete)
        #expect(parse(bytes("\r")).0 == .incomplete)
    }
}

/// Back-to-back requests in one buffer are separated by headLength plus body.
@Suite struct PipeliningTests {
    @Test func threeRequestsInOneBuffer() throws {
        let first = head("GET /a HTTP/1.1", "Host: a")
        let second = head("POST /b HTTP/1.1", "Host: a", "Content-Length: 5") + bytes("hello")
        let third = head("POST /c HTTP/1.1", "Host: a", "Transfer-Encoding: chunked")
            + bytes("3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n")
        let fourth = head("GET /d HTTP/1.1", "Host: a", "Connection: close")
        var buffer = first + second + third + fourth

        var parsed = RequestHead()
        var targets: [String] = []
        var bodies: [String] = []
        while !buffer.isEmpty {
            try #require(parse(buffer, into: &parsed) == .complete)
            targets.append(text(parsed.target, in: buffer))
            var consumed = parsed.headLength
            switch parsed.framing {
            case .none:
                bodies.append("")
            case .contentLength(let length):
                bodies.append(String(decoding: buffer[consumed..<consumed + length], as: UTF8.self))
                consumed += length
            case .chunked:
                let (result, body) = decodeChunked(Array(buffer[consumed...]))
                guard case .done(let used) = result else {
                    Issue.record("chunked body not done: \(result)")
                    return
                }
                bodies.append(String(decoding: body, as: UTF8.self))
                consumed += used
            }
            buffer.removeFirst(consumed)
        }
        #expect(targets == ["/a", "/b", "/c", "/d"])
        #expect(bodies == ["", "hello", "abcde", ""])
        #expect(!parsed.keepAlive)
    }

    @Test func secondRequestStillArrivingIsIncomplete() throws {
        let first = head("GET /a HTTP/1.1", "Host: a")
        let buffer = first + bytes("GET /b HTTP/1.1\r\nHo")
        let (result, parsed) = parse(buffer)
        try #require(result == .complete)
        #expect(parsed.headLength == first.count)
        #expect(parse(Array(buffer[parsed.headLength...])).0 == .incomplete)
    }
}

/// The parser resumes where it stopped: the work for a head is linear in its
/// bytes however they arrive, and a field line is judged when it ends.
@Suite struct ResumedParsingTests {
    /// A 16 KiB head (many lines and one long value) given one more byte per
    /// call. Parsing the whole buffer again on every call, as the parser did,
    /// costs about n²/2 steps here: 134 million, not 16 thousand.
    @Test func aHeadDribbledOneBytePerReadCostsLinearSteps() {
        var lines = ["POST /trustpay/payment HTTP/1.1", "Host: a", "X-Long: " + String(repeating: "v", count: 8000)]
        while lines.joined(separator: "\r\n").utf8.count < 16 * 1024 - 200 { lines.append("X-Field-\(lines.count): value") }
        let request = head(lines)
        var limits = HTTPLimits()
        limits.maxHeaderBytes = 16 * 1024
        limits.maxHeaderCount = 1000
        var parsed = RequestHead()
        for length in 1..<request.count {
            #expect(parse(Array(request.prefix(length)), limits: limits, into: &parsed) == .incomplete)
        }
        #expect(parse(request, limits: limits, into: &parsed) == .complete)
        let steps = parsed.progress.steps
        #expect(request.count > 16_000)
        // Each byte examined once, plus one more look at each token's first byte.
        #expect(steps <= 2 * request.count, "steps \(steps) for \(request.count) bytes")
        let (_, whole) = parse(request, limits: limits)
        #expect(parsed == whole)
    }

    /// No blank line has come, and none needs to: the line already decides.
    @Test(arguments: [
        ("Content-Length: 99999999999999999999999", 400),
        ("Content-Length: 5\r\nContent-Length: 6", 400),
        ("Content-Length: 5, 6", 400),
        ("Content-Length: 1000000000", 413),
        ("Host: b", 400),
        ("Transfer-Encoding: gzip", 400),
        ("Transfer-Encoding: chunked\r\nContent-Length: 5", 400),
        ("X-Bad: a\u{1}b", 400),
    ])
    func aFieldLineIsRefusedAsSoonAsItEnds(line: String, status: Int) {
        let bytes = bytes("POST / HTTP/1.1\r\nHost: a\r\n\(line)\r\n")
        let (result, _) = parse(bytes)
        guard case .invalid(let error) = result else {
            Issue.record("\(line): \(result)")
            return
        }
        #expect(error.statusCode == status, "\(line): \(error)")
    }

    /// After `.complete` (or `.invalid`) the next call starts a new head,
    /// so one `RequestHead` serves a whole connection.
    @Test func aFinishedHeadStartsOverOnTheNextCall() {
        var parsed = RequestHead()
        #expect(parse(head("GET /a HTTP/1.1", "Host: a"), into: &parsed) == .complete)
        let second = head("POST /b HTTP/1.1", "Host: a", "Content-Length: 2")
        #expect(parse(second, into: &parsed) == .complete)
        #expect(text(parsed.target, in: second) == "/b" && parsed.framing == .contentLength(2))
        #expect(parse(bytes("GET\u{1} / HTTP/1.1\r\n"), into: &parsed) != .complete)
        #expect(parse(head("GET /c HTTP/1.1", "Host: a"), into: &parsed) == .complete)
    }
}

/// Targets are split by their grammar, not by counting slashes.
@Suite struct RequestTargetTests {
    @Test(arguments: [
        ("/pay?x=1", nil, "/pay", "x=1"),
        ("/", nil, "/", nil),
        ("http://shop.example/pay?x=/a/b", "shop.example", "/pay", "x=/a/b"),
        ("http://shop.example?x=/a/b", "shop.example", "/", "x=/a/b"),
        ("HTTPS://shop.example:8443", "shop.example:8443", "/", nil),
        ("http://user@shop.example/a/b/c", "user@shop.example", "/a/b/c", nil),
        ("*", nil, "*", nil),
    ] as [(String, String?, String, String?)])
    func splitsAuthorityPathAndQuery(target: String, authority: String?, path: String, query: String?) {
        let parts = Array(target.utf8).withUnsafeBytes { RequestTarget($0) }
        #expect(parts == RequestTarget(authority: authority, path: path, query: query))
    }
}
