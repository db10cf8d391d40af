/// The outcome of one ``RequestHeadParser/parse(_:limits:into:)`` call.
public enum HeadParseResult: Sendable, Equatable {
    /// The head is complete and valid; the `RequestHead` is filled in.
    case complete
    /// Every byte so far is valid but the head has not ended: read more and
    /// parse the whole buffer again.
    case incomplete
    /// The request must be rejected with `error.statusCode` and the
    /// connection closed.
    case invalid(HTTPParseError)
}

/// A strict HTTP/1.1 request-head parser (RFC 9112), in the manner of
/// picohttpparser: a pure function of the bytes, parsing in place, with
/// "need more bytes" kept apart from "reject".
///
/// It is stateless: after `.incomplete`, call it again with the same bytes
/// plus whatever arrived since. Anything that could let two parsers disagree
/// about where a request ends (bare CR or LF, obs-fold, whitespace before the
/// colon, conflicting Content-Length, any Transfer-Encoding but `chunked`,
/// Transfer-Encoding with Content-Length) is rejected rather than repaired.
public enum RequestHeadParser {
    /// Parses the request head at the start of `buffer` into `head`.
    ///
    /// - Parameters:
    ///   - buffer: Bytes read from the connection, starting at the first byte
    ///     of this request. It may hold more than the head (body, further
    ///     pipelined requests); `head.headLength` says where the head ends.
    ///   - limits: Sizes to enforce. Too-large heads, targets and declared
    ///     bodies are reported as soon as they are evident, even while the
    ///     head is still incomplete.
    ///   - head: Reset, then filled in; meaningful only after `.complete`.
    public static func parse(
        _ buffer: UnsafeRawBufferPointer, limits: HTTPLimits, into head: inout RequestHead
    ) -> HeadParseResult {
        head.reset()
        // Scanning stops at the header limit: needing a byte beyond it while
        // the buffer holds one means the head is too large, whatever follows.
        var scanner = HeadScanner(
            buffer: buffer, end: min(buffer.count, max(0, limits.maxHeaderBytes)))
        do throws(HeadScanner.Stop) {
            try scanner.skipEmptyLines()
            try scanner.parseRequestLine(limits: limits, into: &head)
            try scanner.parseFieldLines(limits: limits, into: &head)
            head.headLength = scanner.index
            try MessageFraming.interpret(buffer, limits: limits, into: &head)
            return .complete
        } catch {
            switch error {
            case .incomplete: return .incomplete
            case .invalid(let reason): return .invalid(reason)
            }
        }
    }
}

/// A cursor over the head bytes. Typed throws carry "stop here" outward
/// without allocating.
struct HeadScanner {
    enum Stop: Error {
        case incomplete
        case invalid(HTTPParseError)
    }

    let buffer: UnsafeRawBufferPointer
    /// One past the last byte the head may occupy.
    let end: Int
    var index = 0

    private var outOfBytes: Stop {
        end < buffer.count ? .invalid(.headersTooLarge) : .incomplete
    }

    func peek() throws(Stop) -> UInt8 {
        guard index < end else { throw outOfBytes }
        return buffer[index]
    }

    mutating func next() throws(Stop) -> UInt8 {
        guard index < end else { throw outOfBytes }
        index += 1
        return buffer[index - 1]
    }

    /// Consumes the LF that must follow a CR just read.
    mutating func expectLF() throws(Stop) {
        guard try next() == .lf else { throw .invalid(.badRequest("bare CR in request head")) }
    }

    /// RFC 9112 §2.2: a server should ignore empty lines received before the
    /// request line (left over from a client's previous body).
    mutating func skipEmptyLines() throws(Stop) {
        while true {
            switch try peek() {
            case .cr:
                index += 1
                try expectLF()
            case .lf:
                throw .invalid(.badRequest("bare LF in request head"))
            default:
                return
            }
        }
    }

    /// `method SP request-target SP HTTP-version CRLF`, one space each.
    mutating func parseRequestLine(limits: HTTPLimits, into head: inout RequestHead) throws(Stop) {
        let methodStart = index
        while true {
            let byte = try next()
            if byte.isTokenByte { continue }
            guard byte == .space, index - 1 > methodStart else {
                throw .invalid(.badRequest("malformed method"))
            }
            break
        }
        head.method = ByteRange(methodStart, index - 1)

        let targetStart = index
        while true {
            let byte = try next()
            if byte.isVisibleASCII {
                // Checked per byte so a huge target is refused before it ends.
                if index - targetStart > limits.maxURIBytes { throw .invalid(.uriTooLong) }
                continue
            }
            guard byte == .space, index - 1 > targetStart else {
                throw .invalid(.badRequest("malformed request target"))
            }
            break
        }
        head.target = ByteRange(targetStart, index - 1)
        try checkTargetForm(head.target, method: head.method)

        // "HTTP/" DIGIT "." DIGIT, then CRLF.
        for expected in "HTTP/".utf8 {
            guard try next() == expected else { throw .invalid(.badRequest("malformed HTTP version")) }
        }
        let major = try next()
        let dot = try next()
        let minor = try next()
        guard major.isDigit, dot == UInt8(ascii: "."), minor.isDigit else {
            throw .invalid(.badRequest("malformed HTTP version"))
        }
        switch try next() {
        case .cr: try expectLF()
        case .lf: throw .invalid(.badRequest("bare LF in request head"))
        default: throw .invalid(.badRequest("malformed HTTP version"))
        }
        guard major == UInt8(ascii: "1") else { throw .invalid(.versionNotSupported) }
        // RFC 9110 §2.5: a 1.x minor we do not know is served as the highest we do.
        head.version = minor == UInt8(ascii: "0") ? .http1_0 : .http1_1
    }

    /// Origin-form, absolute-form (http/https) or asterisk-form for OPTIONS.
    /// Authority-form is only for CONNECT, which this server does not proxy.
    private func checkTargetForm(_ target: ByteRange, method: ByteRange) throws(Stop) {
        let first = buffer[target.start]
        if first == UInt8(ascii: "/") { return }
        if first == UInt8(ascii: "*") {
            guard target.count == 1, method.equalsCaseSensitive("OPTIONS", in: buffer) else {
                throw .invalid(.badRequest("asterisk-form target is only for OPTIONS"))
            }
            return
        }
        guard startsWithScheme("http://", target) || startsWithScheme("https://", target) else {
            throw .invalid(.badRequest("unsupported request-target form"))
        }
    }

    /// Whether `target` is `scheme` (any case) followed by at least one byte.
    private func startsWithScheme(_ scheme: String, _ target: ByteRange) -> Bool {
        let prefix = ByteRange(target.start, target.start + scheme.utf8.count)
        return prefix.end < target.end && prefix.equalsIgnoringCase(scheme, in: buffer)
    }

    /// `field-name ":" OWS field-value OWS CRLF` lines up to the blank line.
    mutating func parseFieldLines(limits: HTTPLimits, into head: inout RequestHead) throws(Stop) {
        while true {
            switch try peek() {
            case .cr:
                index += 1
                try expectLF()
                return
            case .lf:
                throw .invalid(.badRequest("bare LF in request head"))
            case .space, .htab:
                // obs-fold, or whitespace before the first field (RFC 9112 §2.2, §5.2).
                throw .invalid(.badRequest("header line starts with whitespace"))
            default:
                break
            }
            guard head.headers.count < limits.maxHeaderCount else {
                throw .invalid(.headersTooLarge)
            }

            let nameStart = index
            while true {
                let byte = try next()
                if byte.isTokenByte { continue }
                if byte == .colon, index - 1 > nameStart { break }
                if byte.isWhitespace {
                    throw .invalid(.badRequest("whitespace between header name and colon"))
                }
                throw .invalid(.badRequest("malformed header name"))
            }
            let name = ByteRange(nameStart, index - 1)

            while try peek().isWhitespace { index += 1 }
            let valueStart = index
            var valueEnd = index  // one past the last non-whitespace byte
            while true {
                let byte = try next()
                if byte.isFieldVisibleByte {
                    valueEnd = index
                } else if byte.isWhitespace {
                    continue
                } else if byte == .cr {
                    try expectLF()
                    break
                } else if byte == .lf {
                    throw .invalid(.badRequest("bare LF in request head"))
                } else {
                    throw .invalid(.badRequest("control character in header value"))
                }
            }
            head.headers.append(HeaderField(name: name, value: ByteRange(valueStart, valueEnd)))
        }
    }
}

extension ByteRange {
    /// Exact byte comparison, for the case-sensitive parts of HTTP (methods).
    func equalsCaseSensitive(_ ascii: String, in buffer: UnsafeRawBufferPointer) -> Bool {
        guard start >= 0, start <= end, end <= buffer.count, count == ascii.utf8.count else {
            return false
        }
        var index = start
        for expected in ascii.utf8 {
            if buffer[index] != expected { return false }
            index += 1
        }
        return true
    }
}
