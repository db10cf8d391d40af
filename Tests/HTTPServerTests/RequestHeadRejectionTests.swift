import Testing
@testable import HTTPServer

/// A request the parser must refuse, and the status it must be refused with.
struct Rejection: Sendable, CustomTestStringConvertible {
    let why: String
    let request: [UInt8]
    let status: Int
    var testDescription: String { why }

    init(_ why: String, _ request: [UInt8], _ status: Int = 400) {
        self.why = why
        self.request = request
        self.status = status
    }

    init(_ why: String, _ raw: String, _ status: Int = 400) {
        self.init(why, bytes(raw), status)
    }
}

private func get(_ fields: String...) -> [UInt8] { head(["GET / HTTP/1.1"] + fields) }
private func post(_ fields: String...) -> [UInt8] { head(["POST / HTTP/1.1", "Host: a"] + fields) }

/// Line endings are CRLF and nothing else.
let lineEndingRejections: [Rejection] = [
    Rejection("bare LF ends the request line", "GET / HTTP/1.1\nHost: a\r\n\r\n"),
    Rejection("bare LF ends a header line", "GET / HTTP/1.1\r\nHost: a\n\r\n"),
    Rejection("bare LF ends the head", "GET / HTTP/1.1\r\nHost: a\r\n\n"),
    Rejection("bare LF before the request line", "\nGET / HTTP/1.1\r\nHost: a\r\n\r\n"),
    Rejection("bare CR before the request line", "\rGET / HTTP/1.1\r\nHost: a\r\n\r\n"),
    Rejection("bare CR after the version", "GET / HTTP/1.1\rHost: a\r\n\r\n"),
    Rejection("bare CR inside a value", "GET / HTTP/1.1\r\nHost: a\rb\r\n\r\n"),
    Rejection("bare CR ends a value", "GET / HTTP/1.1\r\nHost: a\r\r\n\r\n"),
    Rejection("bare CR in place of the blank line", "GET / HTTP/1.1\r\nHost: a\r\n\rX"),
    Rejection("bare LF inside a value", "GET / HTTP/1.1\r\nHost: a\nb\r\n\r\n"),
    Rejection("bare CR in the target", "GET /a\rb HTTP/1.1\r\nHost: a\r\n\r\n"),
    Rejection("LF LF ends the head", "GET / HTTP/1.1\nHost: a\n\n"),
]

/// `method SP request-target SP HTTP-version CRLF`, exactly.
let requestLineRejections: [Rejection] = [
    Rejection("empty method", " / HTTP/1.1\r\nHost: a\r\n\r\n"),
    Rejection("separator in method", "GE(T / HTTP/1.1\r\nHost: a\r\n\r\n"),
    Rejection("tab after method", "GET\t/ HTTP/1.1\r\nHost: a\r\n\r\n"),
    Rejection("two spaces after method", "GET  / HTTP/1.1\r\nHost: a\r\n\r\n"),
    Rejection("two spaces before version", "GET /  HTTP/1.1\r\nHost: a\r\n\r\n"),
    Rejection("space after version", "GET / HTTP/1.1 \r\nHost: a\r\n\r\n"),
    Rejection("missing version", "GET /\r\nHost: a\r\n\r\n"),
    Rejection("missing target", "GET HTTP/1.1\r\nHost: a\r\n\r\n"),
    Rejection("control byte in target", "GET /a\u{01}b HTTP/1.1\r\nHost: a\r\n\r\n"),
    Rejection("DEL in target", "GET /a\u{7F} HTTP/1.1\r\nHost: a\r\n\r\n"),
    Rejection("non-ASCII byte in target", bytes("GET /caf") + [0xC3, 0xA9] + get("Host: a").dropFirst(5)),
    Rejection("tab in target", "GET /a\tb HTTP/1.1\r\nHost: a\r\n\r\n"),
    Rejection("authority-form target", "CONNECT merchant.example:443 HTTP/1.1\r\nHost: a\r\n\r\n"),
    Rejection("relative target", "GET orders HTTP/1.1\r\nHost: a\r\n\r\n"),
    Rejection("unsupported scheme", "GET ftp://merchant.example/ HTTP/1.1\r\nHost: a\r\n\r\n"),
    Rejection("scheme without authority", "GET http:// HTTP/1.1\r\nHost: a\r\n\r\n"),
    Rejection("truncated scheme", "GET http:/x HTTP/1.1\r\nHost: a\r\n\r\n"),
    Rejection("asterisk with GET", "GET * HTTP/1.1\r\nHost: a\r\n\r\n"),
    Rejection("asterisk followed by more", "OPTIONS *x HTTP/1.1\r\nHost: a\r\n\r\n"),
    Rejection("lower-case protocol name", "GET / http/1.1\r\nHost: a\r\n\r\n"),
    Rejection("version without minor", "GET / HTTP/1\r\nHost: a\r\n\r\n"),
    Rejection("version without dot", "GET / HTTP/11\r\nHost: a\r\n\r\n"),
    Rejection("two-digit minor version", "GET / HTTP/1.10\r\nHost: a\r\n\r\n"),
    Rejection("two-digit major version", "GET / HTTP/10.1\r\nHost: a\r\n\r\n"),
    Rejection("letters as version", "GET / HTTP/a.b\r\nHost: a\r\n\r\n"),
    Rejection("other protocol", "GET / HTCPCP/1.0\r\nHost: a\r\n\r\n"),
    Rejection("HTTP/2.0", "GET / HTTP/2.0\r\nHost: a\r\n\r\n", 505),
    Rejection("HTTP/0.9", "GET / HTTP/0.9\r\nHost: a\r\n\r\n", 505),
    Rejection("HTTP/3.0", "GET / HTTP/3.0\r\nHost: a\r\n\r\n", 505),
    Rejection("HTTP/9.9", "GET / HTTP/9.9\r\nHost: a\r\n\r\n", 505),
]

/// `field-name ":" OWS field-value OWS CRLF`, with no folding.
let fieldLineRejections: [Rejection] = [
    Rejection("obsolete line folding", get("Host: a", "X-Long: one", " two")),
    Rejection("obsolete folding with tab", get("Host: a", "X-Long: one", "\ttwo")),
    Rejection("whitespace before the first field", get(" Host: a")),
    Rejection("space before colon", get("Host : a")),
    Rejection("tab before colon", get("Host\t: a")),
    Rejection("empty field name", get("Host: a", ": x")),
    Rejection("separator in field name", get("Host: a", "X(Y): 1")),
    Rejection("non-ASCII field name", get("Host: a", "X-Caf\u{E9}: 1")),
    Rejection("field line without colon", get("Host: a", "X-Flag")),
    Rejection("field line without colon but with space", get("Host: a", "X-Flag on")),
    Rejection("NUL in value", get("Host: a", "X: a\u{0}b")),
    Rejection("control byte in value", get("Host: a", "X: a\u{1B}b")),
    Rejection("DEL in value", get("Host: a", "X: a\u{7F}")),
    Rejection("vertical tab in value", get("Host: a", "X: \u{0B}")),
]

/// Host, Content-Length and Transfer-Encoding must leave no doubt about the message.
let framingRejections: [Rejection] = [
    Rejection("HTTP/1.1 without Host", get("Accept: */*")),
    Rejection("two Host fields", get("Host: a", "Host: a")),
    Rejection("two Host fields in HTTP/1.0", head("GET / HTTP/1.0", "Host: a", "host: b")),
    Rejection("signed Content-Length", post("Content-Length: +5")),
    Rejection("negative Content-Length", post("Content-Length: -1")),
    Rejection("space inside Content-Length", post("Content-Length: 1 0")),
    Rejection("hex Content-Length", post("Content-Length: 0x5")),
    Rejection("Content-Length with suffix", post("Content-Length: 5a")),
    Rejection("empty Content-Length", post("Content-Length:")),
    Rejection("empty Content-Length list element", post("Content-Length: 5,")),
    Rejection("Content-Length list starting with comma", post("Content-Length: ,5")),
    Rejection("Content-Length overflowing Int", post("Content-Length: 99999999999999999999999")),
    Rejection("Content-Length just over Int.max", post("Content-Length: 9223372036854775808")),
    Rejection("differing Content-Length list", post("Content-Length: 5, 6")),
    Rejection("differing Content-Length fields", post("Content-Length: 5", "Content-Length: 6")),
    Rejection("gzip transfer coding", post("Transfer-Encoding: gzip")),
    Rejection("identity transfer coding", post("Transfer-Encoding: identity")),
    Rejection("chunked twice in one field", post("Transfer-Encoding: chunked, chunked")),
    Rejection("gzip then chunked", post("Transfer-Encoding: gzip, chunked")),
    Rejection("chunked then gzip", post("Transfer-Encoding: chunked, gzip")),
    Rejection("chunked with a parameter", post("Transfer-Encoding: chunked;q=1")),
    Rejection("chunked with a trailing comma", post("Transfer-Encoding: chunked,")),
    Rejection("misspelled chunked", post("Transfer-Encoding: chunk")),
    Rejection("empty Transfer-Encoding", post("Transfer-Encoding:")),
    Rejection("two Transfer-Encoding fields", post("Transfer-Encoding: chunked", "Transfer-Encoding: chunked")),
    Rejection("Transfer-Encoding and Content-Length", post("Transfer-Encoding: chunked", "Content-Length: 5")),
    Rejection("Content-Length and Transfer-Encoding", post("Content-Length: 0", "transfer-encoding: chunked")),
    Rejection("Transfer-Encoding in HTTP/1.0", head("POST / HTTP/1.0", "Transfer-Encoding: chunked")),
]

@Suite struct RequestHeadRejectionTests {
    @Test(arguments: lineEndingRejections + requestLineRejections + fieldLineRejections + framingRejections)
    func isRejected(_ rejection: Rejection) {
        let (result, _) = parse(rejection.request)
        guard case .invalid(let error) = result else {
            Issue.record("expected status \(rejection.status), got \(result)")
            return
        }
        #expect(error.statusCode == rejection.status, "\(error.reason)")
    }

    /// Errors in the bytes seen so far are reported without waiting for the
    /// rest of the head.
    @Test func rejectsBeforeTheHeadIsComplete() {
        #expect(parse(bytes("GET / HTTP/1.1\r\nHost: a\rX")).0 == .invalid(.badRequest("bare CR in request head")))
        #expect(parse(bytes("GET / HTTP/2.0\r\n")).0 == .invalid(.versionNotSupported))
        if case .invalid = parse(bytes("GE(")).0 {} else { Issue.record("bad method byte not reported early") }
        if case .invalid = parse(bytes("GET / HTTP/1.1\r\n X")).0 {} else { Issue.record("obs-fold not reported early") }
    }
}
