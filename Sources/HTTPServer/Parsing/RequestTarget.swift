/// A request-target taken apart (RFC 9112 §3.2): origin-form `/path?query`,
/// absolute-form `http://authority/path?query`, or asterisk-form `*`.
struct RequestTarget: Equatable {
    /// The authority of an absolute-form target (`host:port`), else nil.
    var authority: String?
    /// Never empty: an absolute-form target without a path means `/`.
    var path: String
    var query: String?

    init(authority: String? = nil, path: String, query: String? = nil) {
        self.authority = authority
        self.path = path
        self.query = query
    }

    /// Splits a target the parser accepted. The authority ends at the first
    /// `/`, `?` or `#` after `scheme://` (RFC 3986 §3.2), so a `/` inside the
    /// query is never taken for the start of the path.
    init(_ target: UnsafeRawBufferPointer) {
        var rest = target[...]
        if let schemeLength = Self.schemeLength(of: target) {
            let afterScheme = target.index(target.startIndex, offsetBy: schemeLength)
            let authorityEnd = target[afterScheme...].firstIndex {
                $0 == UInt8(ascii: "/") || $0 == UInt8(ascii: "?") || $0 == UInt8(ascii: "#")
            } ?? target.endIndex
            authority = String(decoding: target[afterScheme..<authorityEnd], as: UTF8.self)
            rest = target[authorityEnd...]
        }
        if let question = rest.firstIndex(of: UInt8(ascii: "?")) {
            path = String(decoding: rest[..<question], as: UTF8.self)
            query = String(decoding: rest[rest.index(after: question)...], as: UTF8.self)
        } else {
            path = String(decoding: rest, as: UTF8.self)
        }
        if path.isEmpty { path = "/" }
    }

    /// The length of `http://` or `https://` (any case) when `target` starts
    /// with one and an authority follows; nil for any other form.
    static func schemeLength(of target: UnsafeRawBufferPointer) -> Int? {
        for scheme in ["http://", "https://"] {
            let range = ByteRange(0, scheme.utf8.count)
            if target.count > range.end, range.equalsIgnoringCase(scheme, in: target) { return range.end }
        }
        return nil
    }
}
