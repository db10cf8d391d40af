/// A parsed request line and header section, as ranges over the buffer it
/// was parsed from.
///
/// Keep one per connection and pass it to every
/// ``RequestHeadParser/parse(_:limits:into:)``: the headers array keeps its
/// capacity between requests, so steady-state parsing allocates nothing.
/// The fields are only meaningful after a parse returned `.complete`, and
/// only together with the buffer that parse read.
///
/// ```swift
/// var head = RequestHead()
/// if RequestHeadParser.parse(buffer, limits: limits, into: &head) == .complete,
///    let type = head.firstValue(forName: "content-type", in: buffer) {
///     // buffer[type.start..<type.end] is the Content-Type value, OWS trimmed.
/// }
/// ```
public struct RequestHead: Sendable, Equatable {
    /// Two heads are equal when they parsed to the same request, however
    /// the bytes arrived.
    public static func == (a: RequestHead, b: RequestHead) -> Bool {
        a.method == b.method && a.target == b.target && a.version == b.version && a.headers == b.headers
            && a.framing == b.framing && a.keepAlive == b.keepAlive && a.expectContinue == b.expectContinue
            && a.headLength == b.headLength
    }

    /// The method token, e.g. `GET`. Methods are case-sensitive.
    public var method: ByteRange
    /// The request-target exactly as sent: origin-form, absolute-form or `*`.
    public var target: ByteRange
    /// HTTP/1.0 or HTTP/1.1; HTTP/1.2 through 1.9 are reported as 1.1.
    public var version: HTTPVersion
    /// Field lines in arrival order; values have surrounding whitespace trimmed.
    public var headers: [HeaderField]
    /// How the body that follows the head is delimited.
    public var framing: BodyFraming
    /// Whether the connection may carry another request after this one.
    public var keepAlive: Bool
    /// The client sent `Expect: 100-continue` on HTTP/1.1 and waits for a
    /// `100 Continue` before sending the body.
    public var expectContinue: Bool
    /// Bytes from the start of the buffer through the blank line ending the
    /// head, including any empty lines skipped before the request line. The
    /// body (or the next pipelined request) starts at this offset.
    public var headLength: Int
    /// Where an incomplete parse stopped.
    var progress = HeadProgress()

    /// An empty head, ready to be parsed into.
    public init() {
        method = ByteRange(0, 0)
        target = ByteRange(0, 0)
        version = .http1_1
        headers = []
        framing = .none
        keepAlive = false
        expectContinue = false
        headLength = 0
    }

    /// Back to the initial state, keeping the headers' storage.
    mutating func reset() {
        method = ByteRange(0, 0)
        target = ByteRange(0, 0)
        version = .http1_1
        headers.removeAll(keepingCapacity: true)
        framing = .none
        keepAlive = false
        expectContinue = false
        headLength = 0
        progress = HeadProgress()
    }

    /// The value of the first field called `name` (ASCII case-insensitive),
    /// or nil if there is none. `buffer` must be the one that was parsed.
    public func firstValue(forName name: String, in buffer: UnsafeRawBufferPointer) -> ByteRange? {
        for field in headers where field.name.equalsIgnoringCase(name, in: buffer) {
            return field.value
        }
        return nil
    }
}

extension ByteRange {
    /// Whether the bytes this range covers in `buffer` spell `ascii`,
    /// ignoring ASCII case, without copying either side. A range that does
    /// not lie inside `buffer` compares unequal.
    public func equalsIgnoringCase(_ ascii: String, in buffer: UnsafeRawBufferPointer) -> Bool {
        guard start >= 0, start <= end, end <= buffer.count, count == ascii.utf8.count else {
            return false
        }
        var index = start
        for expected in ascii.utf8 {
            if buffer[index].asciiLowercased != expected.asciiLowercased { return false }
            index += 1
        }
        return true
    }
}
