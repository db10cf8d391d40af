/// A response. The server adds `Content-Length`, `Date`, `Server` and, when
/// it closes the connection, `Connection: close`.
public struct HTTPResponse: Sendable {
    public var status: HTTPStatus
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]

    public init(status: HTTPStatus, headers: [(name: String, value: String)] = [], body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    public init(status: HTTPStatus, contentType: String, body: String) {
        self.init(status: status, headers: [("Content-Type", contentType)], body: Array(body.utf8))
    }

    /// A JSON error body `{"error":…,"message":…}` for rejections.
    public static func error(_ status: HTTPStatus, code: String, message: String) -> HTTPResponse {
        let body = "{\"error\":\(jsonQuoted(code)),\"message\":\(jsonQuoted(message))}"
        return HTTPResponse(status: status, contentType: "application/json", body: body)
    }
}

/// Minimal JSON string quoting for server-generated error bodies.
func jsonQuoted(_ text: String) -> String {
    var out = "\""
    for scalar in text.unicodeScalars {
        switch scalar {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        case _ where scalar.value < 0x20:
            let hex = String(scalar.value, radix: 16)
            out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
        default: out.unicodeScalars.append(scalar)
        }
    }
    return out + "\""
}
