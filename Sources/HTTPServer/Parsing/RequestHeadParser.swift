/// The outcome of one ``RequestHeadParser/parse(_:limits:into:)`` call.
public enum HeadParseResult: Sendable, Equatable {
    /// The head is complete and valid; the `RequestHead` is filled in.
    case complete
    /// Every byte so far is valid but the head has not ended: read more and
    /// call again with the same bytes plus the new ones.
    case incomplete
    /// The request must be rejected with `error.statusCode` and the
    /// connection closed.
    case invalid(HTTPParseError)
}

/// A strict HTTP/1.1 request-head parser (RFC 9112), in the manner of
/// picohttpparser: parsing in place, with "need more bytes" kept apart from
/// "reject".
///
/// It resumes: after `.incomplete`, call it again with the same `head` and
/// the same bytes plus whatever arrived since; it continues at the first byte
/// it has not examined, so a head that arrives one byte per read costs what
/// it costs at once. Each field line is checked as soon as it ends: a bad
/// or conflicting `Content-Length` is refused without waiting for the blank
/// line. Anything that could let two parsers disagree about where a request
/// ends (bare CR or LF, obs-fold, whitespace before the colon, conflicting
/// Content-Length, any Transfer-Encoding but `chunked`, Transfer-Encoding
/// with Content-Length) is rejected rather than repaired.
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
    ///   - head: Continued after `.incomplete`, otherwise reset; meaningful
    ///     only after `.complete`.
    public static func parse(
        _ buffer: UnsafeRawBufferPointer, limits: HTTPLimits, into head: inout RequestHead
    ) -> HeadParseResult {
        if head.progress.stage == .done || head.progress.stage == .failed || buffer.count < head.progress.index {
            head.reset()
        }
        // Scanning stops at the header limit: needing a byte beyond it while
        // the buffer holds one means the head is too large, whatever follows.
        var scanner = HeadScanner(buffer: buffer, end: min(buffer.count, max(0, limits.maxHeaderBytes)), limits: limits)
        do throws(HeadScanner.Stop) {
            try scanner.scan(into: &head)
            return .complete
        } catch {
            switch error {
            case .incomplete:
                return .incomplete
            case .invalid(let reason):
                head.progress.stage = .failed
                return .invalid(reason)
            }
        }
    }
}

/// Where a parse stopped: the next call resumes at `index` in `stage`.
struct HeadProgress: Sendable {
    enum Stage: Sendable {
        case leadingLines, leadingLF, method, target, version, versionLF
        case fieldStart, fieldName, beforeValue, value, valueLF, finalLF
        case done, failed
    }

    var stage = Stage.leadingLines
    /// The next byte to examine.
    var index = 0
    /// Where the token being read (method, target, name, value) starts.
    var mark = 0
    var nameStart = 0
    var nameEnd = 0
    /// One past the last non-whitespace byte of the value being read.
    var valueEnd = 0
    /// Bytes of `HTTP/d.d` read so far.
    var versionRead = 0
    var framing = MessageFraming()
    /// Bytes examined over every call for this head: the tests' measure of
    /// the parser's work.
    var steps = 0
}

/// The byte-at-a-time state machine behind ``RequestHeadParser``. Typed
/// throws carry "stop here" outward without allocating.
struct HeadScanner {
    enum Stop: Error {
        case incomplete
        case invalid(HTTPParseError)
    }

    let buffer: UnsafeRawBufferPointer
    /// One past the last byte the head may occupy.
    let end: Int
    let limits: HTTPLimits

    mutating func scan(into head: inout RequestHead) throws(Stop) {
        var p = head.progress
        defer { head.progress = p }
        while true {
            guard p.index < end else {
                throw end < buffer.count ? .invalid(.headersTooLarge) : .incomplete
            }
            let byte = buffer[p.index]
            p.steps += 1
            switch p.stage {
            case .leadingLines:
                // RFC 9112 §2.2: empty lines before the request line (left
                // over from a client's previous body) are ignored.
                switch byte {
                case .cr: p.stage = .leadingLF
                case .lf: throw bad("bare LF in request head")
                default:
                    p.mark = p.index
                    p.stage = .method
                    continue  // the same byte starts the method
                }
            case .leadingLF:
                guard byte == .lf else { throw bad("bare CR in request head") }
                p.stage = .leadingLines
            case .method:
                if !byte.isTokenByte {
                    guard byte == .space, p.index > p.mark else { throw bad("malformed method") }
                    head.method = ByteRange(p.mark, p.index)
                    p.mark = p.index + 1
                    p.stage = .target
                }
            case .target:
                if byte.isVisibleASCII {
                    // The run of target bytes at once (as for names and
                    // values below): the stage's switch once per run, not per byte.
                    let runEnd = run(from: p.index + 1) { $0.isVisibleASCII }
                    // Checked per run, before asking for more, so a huge target is refused before it ends.
                    if runEnd - p.mark > limits.maxURIBytes { throw .invalid(.uriTooLong) }
                    p.steps += runEnd - p.index - 1
                    p.index = runEnd
                    continue
                } else {
                    guard byte == .space, p.index > p.mark else { throw bad("malformed request target") }
                    head.target = ByteRange(p.mark, p.index)
                    try checkTargetForm(head.target, method: head.method)
                    p.versionRead = 0
                    p.stage = .version
                }
            case .version:
                try readVersionByte(byte, progress: &p, into: &head)
            case .versionLF:
                guard byte == .lf else { throw bad("bare CR in request head") }
                p.stage = .fieldStart
            case .fieldStart:
                switch byte {
                case .cr:
                    p.stage = .finalLF
                case .lf:
                    throw bad("bare LF in request head")
                case .space, .htab:
                    // obs-fold, or whitespace before the first field (RFC 9112 §2.2, §5.2).
                    throw bad("header line starts with whitespace")
                default:
                    guard head.headers.count < limits.maxHeaderCount else { throw .invalid(.headersTooLarge) }
                    p.nameStart = p.index
                    p.stage = .fieldName
                    continue
                }
            case .fieldName:
                if byte.isTokenByte {
                    let runEnd = run(from: p.index + 1) { $0.isTokenByte }
                    p.steps += runEnd - p.index - 1
                    p.index = runEnd
                    continue
                }
                if byte == .colon, p.index > p.nameStart {
                    p.nameEnd = p.index
                    p.stage = .beforeValue
                } else if byte.isWhitespace {
                    throw bad("whitespace between header name and colon")
                } else {
                    throw bad("malformed header name")
                }
            case .beforeValue:
                if !byte.isWhitespace {
                    p.mark = p.index
                    p.valueEnd = p.index
                    p.stage = .value
                    continue
                }
            case .value:
                if byte.isFieldVisibleByte {
                    let runEnd = run(from: p.index + 1) { $0.isFieldVisibleByte }
                    p.valueEnd = runEnd
                    p.steps += runEnd - p.index - 1
                    p.index = runEnd
                    continue
                } else if byte == .cr {
                    p.stage = .valueLF
                } else if byte == .lf {
                    throw bad("bare LF in request head")
                } else if !byte.isWhitespace {
                    throw bad("control character in header value")
                }
            case .valueLF:
                guard byte == .lf else { throw bad("bare CR in request head") }
                let field = HeaderField(name: ByteRange(p.nameStart, p.nameEnd), value: ByteRange(p.mark, p.valueEnd))
                head.headers.append(field)
                try p.framing.add(field, version: head.version, in: buffer, limits: limits)
                p.stage = .fieldStart
            case .finalLF:
                guard byte == .lf else { throw bad("bare CR in request head") }
                head.headLength = p.index + 1
                try p.framing.finish(version: head.version, into: &head)
                p.index += 1
                p.stage = .done
                return
            case .done, .failed:
                return
            }
            p.index += 1
        }
    }

    /// Where the run of bytes of one class that starts at `start` ends
    /// (at most at `end`).
    @inline(__always)
    private func run(from start: Int, while isInClass: (UInt8) -> Bool) -> Int {
        var index = start
        while index < end, isInClass(buffer[index]) { index += 1 }
        return index
    }

    /// `HTTP/` DIGIT `.` DIGIT, then CR.
    private func readVersionByte(_ byte: UInt8, progress p: inout HeadProgress, into head: inout RequestHead) throws(Stop) {
        let prefix: StaticString = "HTTP/"
        switch p.versionRead {
        case 0..<5:
            guard byte == prefix.utf8Start[p.versionRead] else { throw bad("malformed HTTP version") }
        case 5, 7:
            guard byte.isDigit else { throw bad("malformed HTTP version") }
        case 6:
            guard byte == UInt8(ascii: ".") else { throw bad("malformed HTTP version") }
        default:
            switch byte {
            case .cr: break
            case .lf: throw bad("bare LF in request head")
            default: throw bad("malformed HTTP version")
            }
            let major = buffer[p.index - 3]
            let minor = buffer[p.index - 1]
            guard major == UInt8(ascii: "1") else { throw .invalid(.versionNotSupported) }
            // RFC 9110 §2.5: a 1.x minor we do not know is served as the highest we do.
            head.version = minor == UInt8(ascii: "0") ? .http1_0 : .http1_1
            p.stage = .versionLF
        }
        p.versionRead += 1
    }

    /// Origin-form, absolute-form (http/https) or asterisk-form for OPTIONS.
    /// Authority-form is only for CONNECT, which this server does not proxy.
    private func checkTargetForm(_ target: ByteRange, method: ByteRange) throws(Stop) {
        let first = buffer[target.start]
        if first == UInt8(ascii: "/") { return }
        if first == UInt8(ascii: "*") {
            guard target.count == 1, method.equalsCaseSensitive("OPTIONS", in: buffer) else {
                throw bad("asterisk-form target is only for OPTIONS")
            }
            return
        }
        guard RequestTarget.schemeLength(of: UnsafeRawBufferPointer(rebasing: buffer[target.start..<target.end])) != nil
        else { throw bad("unsupported request-target form") }
    }

    private func bad(_ reason: String) -> Stop { .invalid(.badRequest(reason)) }
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
