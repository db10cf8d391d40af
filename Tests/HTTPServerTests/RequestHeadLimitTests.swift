import Testing
@testable import HTTPServer

/// Size limits are enforced exactly at their boundary, and as early as the
/// bytes make the violation certain.
@Suite struct RequestHeadLimitTests {
    let limits = HTTPLimits()

    /// A complete head of exactly `length` bytes, padded with one field.
    func headOfLength(_ length: Int) -> [UInt8] {
        let bare = head("GET / HTTP/1.1", "Host: a", "X-Pad: ").count
        return head("GET / HTTP/1.1", "Host: a", "X-Pad: " + String(repeating: "p", count: length - bare))
    }

    @Test func headAtTheLimitIsAccepted() {
        let request = headOfLength(limits.maxHeaderBytes)
        #expect(request.count == limits.maxHeaderBytes)
        let (result, parsed) = parse(request + bytes("GET"))
        #expect(result == .complete)
        #expect(parsed.headLength == limits.maxHeaderBytes)
    }

    @Test func headOneByteOverTheLimitIs431() {
        #expect(parse(headOfLength(limits.maxHeaderBytes + 1)).0 == .invalid(.headersTooLarge))
    }

    @Test func leadingEmptyLinesCountTowardsTheHeadLimit() {
        let request = bytes("\r\n") + headOfLength(limits.maxHeaderBytes - 1)
        #expect(parse(request).0 == .invalid(.headersTooLarge))
    }

    @Test func unfinishedHeadBeyondTheLimitIs431() {
        var request = bytes("GET / HTTP/1.1\r\nHost: a\r\n")
        let filler = bytes("X-Filler: " + String(repeating: "f", count: 1000) + "\r\n")
        while request.count <= limits.maxHeaderBytes { request += filler }
        #expect(parse(request).0 == .invalid(.headersTooLarge))
        // Right at the limit the blank line could still come: wait for it.
        #expect(parse(Array(request.prefix(limits.maxHeaderBytes))).0 == .incomplete)
    }

    @Test func oneEndlessLineBeyondTheLimitIs431() {
        let request = bytes("GET / HTTP/1.1\r\nHost: a\r\nX: ") + Array(repeating: UInt8(ascii: "v"), count: limits.maxHeaderBytes)
        #expect(parse(request).0 == .invalid(.headersTooLarge))
    }

    @Test func smallerHeadLimitIsHonoured() {
        var small = HTTPLimits()
        small.maxHeaderBytes = 64
        let request = headOfLength(64)
        #expect(parse(request, limits: small).0 == .complete)
        #expect(parse(headOfLength(65), limits: small).0 == .invalid(.headersTooLarge))
        // Without its blank line, the head may grow to the limit but not past it.
        let unfinished = Array(request.prefix(62))
        #expect(parse(unfinished + bytes("Y:"), limits: small).0 == .incomplete)
        #expect(parse(unfinished + bytes("Y: "), limits: small).0 == .invalid(.headersTooLarge))
    }

    @Test func headerCountAtTheLimitIsAccepted() {
        let fields = ["Host: a"] + (1..<limits.maxHeaderCount).map { "X-\($0): v" }
        let (result, parsed) = parse(head(["GET / HTTP/1.1"] + fields))
        #expect(result == .complete)
        #expect(parsed.headers.count == limits.maxHeaderCount)
    }

    @Test func headerCountOverTheLimitIs431() {
        let fields = ["Host: a"] + (0..<limits.maxHeaderCount).map { "X-\($0): v" }
        #expect(parse(head(["GET / HTTP/1.1"] + fields)).0 == .invalid(.headersTooLarge))
    }

    @Test func targetAtTheLimitIsAccepted() {
        let target = "/" + String(repeating: "t", count: limits.maxURIBytes - 1)
        let request = head("GET \(target) HTTP/1.1", "Host: a")
        let (result, parsed) = parse(request)
        #expect(result == .complete)
        #expect(parsed.target.count == limits.maxURIBytes)
    }

    @Test func targetOverTheLimitIs414() {
        let target = "/" + String(repeating: "t", count: limits.maxURIBytes)
        #expect(parse(head("GET \(target) HTTP/1.1", "Host: a")).0 == .invalid(.uriTooLong))
    }

    @Test func targetOverTheLimitIs414BeforeTheLineEnds() {
        let start = bytes("GET /" + String(repeating: "t", count: limits.maxURIBytes - 1))
        #expect(parse(start).0 == .incomplete)
        #expect(parse(start + bytes("t")).0 == .invalid(.uriTooLong))
    }

    @Test func contentLengthAtTheBodyLimitIsAccepted() {
        let (result, parsed) = parse(head("POST / HTTP/1.1", "Host: a", "Content-Length: \(limits.maxBodyBytes)"))
        #expect(result == .complete)
        #expect(parsed.framing == .contentLength(limits.maxBodyBytes))
    }

    @Test func contentLengthOverTheBodyLimitIs413() {
        let request = head("POST / HTTP/1.1", "Host: a", "Content-Length: \(limits.maxBodyBytes + 1)")
        #expect(parse(request).0 == .invalid(.payloadTooLarge))
        #expect(parse(request).0.statusCode == 413)
    }
}

extension HeadParseResult {
    /// The status an invalid result maps to; 0 otherwise.
    var statusCode: Int {
        if case .invalid(let error) = self { return error.statusCode }
        return 0
    }
}
