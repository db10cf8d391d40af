/// Offsets into the buffer a request head was parsed from. Nothing is copied
/// while parsing: names and values stay as ranges over the read buffer.
public struct ByteRange: Sendable, Equatable {
    public var start: Int
    public var end: Int
    @inlinable public init(_ start: Int, _ end: Int) {
        self.start = start
        self.end = end
    }
    @inlinable public var count: Int { end - start }
}

/// One header field, as ranges into the head buffer.
public struct HeaderField: Sendable, Equatable {
    public var name: ByteRange
    public var value: ByteRange
    @inlinable public init(name: ByteRange, value: ByteRange) {
        self.name = name
        self.value = value
    }
}

public struct HTTPVersion: Sendable, Equatable {
    public var major: Int
    public var minor: Int
    public static let http1_0 = HTTPVersion(major: 1, minor: 0)
    public static let http1_1 = HTTPVersion(major: 1, minor: 1)
    public init(major: Int, minor: Int) {
        self.major = major
        self.minor = minor
    }
}

/// How the body of a request is delimited (RFC 9112 §6).
public enum BodyFraming: Sendable, Equatable {
    case none
    case contentLength(Int)
    case chunked
}

/// Why a request was rejected; each maps to one status code. The connection
/// is always closed after one of these, because the framing can no longer be
/// trusted.
public enum HTTPParseError: Error, Sendable, Equatable {
    case badRequest(String)
    case uriTooLong
    case headersTooLarge
    case payloadTooLarge
    case versionNotSupported
    case notImplemented(String)

    public var statusCode: Int {
        switch self {
        case .badRequest: 400
        case .uriTooLong: 414
        case .headersTooLarge: 431
        case .payloadTooLarge: 413
        case .versionNotSupported: 505
        case .notImplemented: 501
        }
    }

    public var reason: String {
        switch self {
        case .badRequest(let why): why
        case .uriTooLong: "request target too long"
        case .headersTooLarge: "request header fields too large"
        case .payloadTooLarge: "request body too large"
        case .versionNotSupported: "HTTP version not supported"
        case .notImplemented(let why): why
        }
    }
}

/// Sizes the parser enforces while reading.
public struct HTTPLimits: Sendable, Equatable {
    /// Bytes of request line plus headers plus the blank line.
    public var maxHeaderBytes: Int = 16 * 1024
    public var maxHeaderCount: Int = 100
    public var maxURIBytes: Int = 8 * 1024
    public var maxBodyBytes: Int = 64 * 1024
    public init() {}
}
