@testable import HTTPServer

/// The bytes of `lines` joined with CRLF and ended by the blank line, so a
/// head reads like the wire format: `head("GET / HTTP/1.1", "Host: a")`.
func head(_ lines: String...) -> [UInt8] { head(lines) }

func head(_ lines: [String]) -> [UInt8] {
    Array((lines.joined(separator: "\r\n") + "\r\n\r\n").utf8)
}

func bytes(_ string: String) -> [UInt8] { Array(string.utf8) }

/// Parses `bytes` into a fresh head.
func parse(_ bytes: [UInt8], limits: HTTPLimits = HTTPLimits()) -> (HeadParseResult, RequestHead) {
    var parsed = RequestHead()
    let result = parse(bytes, limits: limits, into: &parsed)
    return (result, parsed)
}

func parse(_ bytes: [UInt8], limits: HTTPLimits = HTTPLimits(), into parsed: inout RequestHead) -> HeadParseResult {
    bytes.withUnsafeBytes { RequestHeadParser.parse($0, limits: limits, into: &parsed) }
}

/// The text a range covers, for readable expectations.
func text(_ range: ByteRange, in bytes: [UInt8]) -> String {
    guard range.start >= 0, range.start <= range.end, range.end <= bytes.count else {
        return "<range \(range.start)..<\(range.end) out of bounds>"
    }
    return String(decoding: bytes[range.start..<range.end], as: UTF8.self)
}

/// The value of the first field called `name`, as text.
func value(_ name: String, in parsed: RequestHead, of bytes: [UInt8]) -> String? {
    bytes.withUnsafeBytes { buffer in
        parsed.firstValue(forName: name, in: buffer).map { text($0, in: bytes) }
    }
}

/// Decodes `input` in one call with a fresh decoder.
func decodeChunked(
    _ input: [UInt8], maxBodyBytes: Int = 64 * 1024, maxTrailerBytes: Int = 8192
) -> (ChunkedDecodeResult, [UInt8]) {
    var decoder = ChunkedDecoder(maxBodyBytes: maxBodyBytes, maxTrailerBytes: maxTrailerBytes)
    var body: [UInt8] = []
    let result = input.withUnsafeBytes { decoder.decode($0, into: &body) }
    return (result, body)
}

