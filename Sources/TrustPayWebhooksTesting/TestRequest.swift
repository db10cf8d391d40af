import HTTPServer

/// A request as a ``WebhookClient`` sends it.
public struct TestRequest: Sendable {
    public var method: HTTPMethod
    public var path: String
    public var query: String?
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]

    public init(
        method: HTTPMethod = .post, path: String, query: String? = nil,
        headers: [(name: String, value: String)] = [], body: [UInt8] = []
    ) {
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
        self.body = body
    }

    /// A `POST` of `body` with `Content-Type: application/json`.
    public static func json(_ path: String, body: [UInt8], query: String? = nil) -> TestRequest {
        TestRequest(path: path, query: query, headers: [("Content-Type", "application/json")], body: body)
    }

    /// The same request with `Content-Type` replaced, or removed when `nil`.
    public func contentType(_ value: String?) -> TestRequest {
        var copy = self
        copy.headers.removeAll { $0.name.lowercased() == "content-type" }
        if let value { copy.headers.append(("Content-Type", value)) }
        return copy
    }
}
