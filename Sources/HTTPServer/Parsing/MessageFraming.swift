/// Reads the fields that decide where the body ends, whether the connection
/// persists and whether the client waits for `100 Continue` (RFC 9112 §6,
/// §9.3; RFC 9110 §8.6, §10.1.1).
///
/// Every ambiguity a front proxy might resolve differently is a rejection:
/// that is what makes request smuggling through this server impossible.
struct MessageFraming: Sendable {
    private typealias Stop = HeadScanner.Stop

    private var hostCount = 0
    private var contentLength: Int?
    private var transferEncoding: ByteRange?
    private var connectionClose = false
    private var connectionKeepAlive = false
    private var expectContinue = false

    /// Takes in one field line as soon as it has ended, refusing at once
    /// what no later line could make acceptable.
    mutating func add(
        _ field: HeaderField, version: HTTPVersion, in buffer: UnsafeRawBufferPointer, limits: HTTPLimits
    ) throws(HeadScanner.Stop) {
        let name = field.name
        if name.equalsIgnoringCase("host", in: buffer) {
            hostCount += 1
            if hostCount > 1 { throw Self.bad("more than one Host field") }
        } else if name.equalsIgnoringCase("content-length", in: buffer) {
            let length = try Self.parseContentLength(field.value, in: buffer, agreeingWith: contentLength)
            if transferEncoding != nil { throw Self.bad("both Transfer-Encoding and Content-Length") }
            // Refused here so the server answers 413 without reading the body.
            if length > limits.maxBodyBytes { throw .invalid(.payloadTooLarge) }
            contentLength = length
        } else if name.equalsIgnoringCase("transfer-encoding", in: buffer) {
            // A 1.0 peer cannot have meant chunked; CL+TE is the classic
            // smuggling vector; anything but one plain `chunked` we cannot frame.
            if version != .http1_1 { throw Self.bad("Transfer-Encoding in an HTTP/1.0 request") }
            if contentLength != nil { throw Self.bad("both Transfer-Encoding and Content-Length") }
            if transferEncoding != nil { throw Self.bad("more than one Transfer-Encoding field") }
            guard field.value.equalsIgnoringCase("chunked", in: buffer) else {
                throw Self.bad("unsupported Transfer-Encoding (only chunked is accepted)")
            }
            transferEncoding = field.value
        } else if name.equalsIgnoringCase("connection", in: buffer) {
            Self.forEachListElement(field.value, in: buffer) { option in
                if option.equalsIgnoringCase("close", in: buffer) { connectionClose = true }
                if option.equalsIgnoringCase("keep-alive", in: buffer) { connectionKeepAlive = true }
            }
        } else if name.equalsIgnoringCase("expect", in: buffer) {
            Self.forEachListElement(field.value, in: buffer) { expectation in
                if expectation.equalsIgnoringCase("100-continue", in: buffer) { expectContinue = true }
            }
        }
    }

    /// At the blank line: what only the whole head can tell.
    func finish(version: HTTPVersion, into head: inout RequestHead) throws(HeadScanner.Stop) {
        let isHTTP11 = version == .http1_1
        if isHTTP11, hostCount == 0 { throw Self.bad("HTTP/1.1 request without Host") }
        if transferEncoding != nil {
            head.framing = .chunked
        } else if let contentLength {
            head.framing = .contentLength(contentLength)
        }
        head.keepAlive = isHTTP11 ? !connectionClose : connectionKeepAlive && !connectionClose
        // RFC 9110 §10.1.1: a 100-continue expectation in HTTP/1.0 is ignored.
        head.expectContinue = isHTTP11 && expectContinue
    }

    /// `1*DIGIT`, or a list of such values that must all agree (RFC 9110 §8.6),
    /// also with any value from an earlier Content-Length field.
    private static func parseContentLength(
        _ value: ByteRange, in buffer: UnsafeRawBufferPointer, agreeingWith earlier: Int?
    ) throws(Stop) -> Int {
        var agreed = earlier
        try forEachListElement(value, in: buffer) { (element) throws(Stop) in
            guard element.count > 0 else { throw bad("empty Content-Length") }
            var length = 0
            for index in element.start..<element.end {
                let byte = buffer[index]
                guard byte.isDigit else { throw bad("malformed Content-Length") }
                let (shifted, overflowA) = length.multipliedReportingOverflow(by: 10)
                let (sum, overflowB) = shifted.addingReportingOverflow(Int(byte &- UInt8(ascii: "0")))
                if overflowA || overflowB { throw bad("Content-Length too large to represent") }
                length = sum
            }
            if let agreed, agreed != length { throw bad("conflicting Content-Length values") }
            agreed = length
        }
        // The list had at least one element, and every element set `agreed`.
        return agreed ?? 0
    }

    /// Calls `body` with each comma-separated element of a field value,
    /// whitespace trimmed; empty elements are passed too.
    static func forEachListElement<E: Error>(
        _ value: ByteRange, in buffer: UnsafeRawBufferPointer, _ body: (ByteRange) throws(E) -> Void
    ) throws(E) {
        var elementStart = value.start
        var index = value.start
        while true {
            if index == value.end || buffer[index] == .comma {
                var start = elementStart
                var end = index
                while start < end, buffer[start].isWhitespace { start += 1 }
                while end > start, buffer[end - 1].isWhitespace { end -= 1 }
                try body(ByteRange(start, end))
                if index == value.end { return }
                elementStart = index + 1
            }
            index += 1
        }
    }

    private static func bad(_ reason: String) -> HeadScanner.Stop { .invalid(.badRequest(reason)) }
}
