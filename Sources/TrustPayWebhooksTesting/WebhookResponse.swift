import TrustPay

/// What a ``WebhookClient`` got back.
public struct WebhookResponse: Sendable, CustomStringConvertible {
    public let status: Int
    public let headers: [(name: String, value: String)]
    public let body: [UInt8]

    public init(status: Int, headers: [(name: String, value: String)], body: [UInt8]) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    public func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }

    public var contentType: String? { header("Content-Type") }

    public var text: String { String(decoding: body, as: UTF8.self) }

    /// The `error` code of a JSON error body.
    public var errorCode: String? {
        guard case .object(let fields)? = try? JSONValue(parsing: body) else { return nil }
        return fields["error"]?.stringValue
    }

    /// Whether this is TrustPay's expected acknowledgement: `200`, JSON, `{}`.
    public var isAcknowledgement: Bool {
        status == 200 && contentType?.lowercased().hasPrefix("application/json") == true && text == "{}"
    }

    public var description: String { "\(status) \(contentType ?? "-") \(text.prefix(200))" }
}
