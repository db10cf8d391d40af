/// A complete request as handed to a handler: head decoded, body buffered
/// (bodies are bounded by `HTTPLimits.maxBodyBytes`).
public struct HTTPRequest: Sendable {
    public var method: HTTPMethod
    /// The path part of the request target, as sent (not percent-decoded).
    public var path: String
    /// The query string after `?`, without the `?`.
    public var query: String?
    public var version: HTTPVersion
    public var headers: HTTPHeaders
    public var body: [UInt8]
    /// The TCP peer (a proxy's address when behind one).
    public var remoteAddress: SocketAddress?
    /// True when the request arrived over TLS.
    public var isSecure: Bool

    public init(
        method: HTTPMethod, path: String, query: String? = nil, version: HTTPVersion = .http1_1,
        headers: HTTPHeaders = HTTPHeaders(), body: [UInt8] = [], remoteAddress: SocketAddress? = nil,
        isSecure: Bool = false
    ) {
        self.method = method
        self.path = path
        self.query = query
        self.version = version
        self.headers = headers
        self.body = body
        self.remoteAddress = remoteAddress
        self.isSecure = isSecure
    }
}
