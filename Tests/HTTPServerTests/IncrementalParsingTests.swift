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
