import Glibc

/// Writes responses into a connection's output buffer. Status lines and the
/// fixed headers are prebuilt bytes; the `Date` value is reformatted at most
/// once per second per event loop.
struct ResponseEncoder {
    private static let statusLines: [[UInt8]] = (100...599).map {
        Array("HTTP/1.1 \($0) \(HTTPStatus.standardReason($0))\r\n".utf8)
    }
    private static let serverHeader = Array("Server: trustpay-webhooks\r\nDate: ".utf8)
    private static let contentLength = Array("\r\nContent-Length: ".utf8)
    private static let connectionClose = Array("Connection: close\r\n".utf8)
    private static let connectionKeepAlive = Array("Connection: keep-alive\r\n".utf8)
    static let continueLine = Array("HTTP/1.1 100 Continue\r\n\r\n".utf8)

    private var dateSecond: Int = -1
    private var date: [UInt8] = []

    /// Appends `response`. `omitBody` for HEAD; `connection` says which
    /// `Connection` header (if any) the client must see.
    mutating func encode(
        _ response: HTTPResponse, omitBody: Bool, connection: ConnectionHeader, into out: inout [UInt8]
    ) {
        let code = response.status.code
        if (100...599).contains(code) && response.status.reason == HTTPStatus.standardReason(code) {
            out.append(contentsOf: Self.statusLines[code - 100])
        } else {
            out.append(contentsOf: "HTTP/1.1 \(code) \(Self.sanitized(response.status.reason))\r\n".utf8)
        }
        out.append(contentsOf: Self.serverHeader)
        refreshDate()
        out.append(contentsOf: date)
        out.append(contentsOf: Self.contentLength)
        Self.appendDecimal(response.body.count, to: &out)
        out.append(13)
        out.append(10)
        switch connection {
        case .close: out.append(contentsOf: Self.connectionClose)
        case .keepAlive: out.append(contentsOf: Self.connectionKeepAlive)
        case .none: break
        }
        for (name, value) in response.headers {
            out.append(contentsOf: Self.sanitized(name).utf8)
            out.append(0x3A)
            out.append(0x20)
            out.append(contentsOf: Self.sanitized(value).utf8)
            out.append(13)
            out.append(10)
        }
        out.append(13)
        out.append(10)
        if !omitBody { out.append(contentsOf: response.body) }
    }

    enum ConnectionHeader { case none, close, keepAlive }

    /// A handler must not be able to split the response with CR or LF.
    private static func sanitized(_ text: String) -> String {
        guard text.utf8.contains(where: { $0 == 13 || $0 == 10 }) else { return text }
        return String(text.map { $0 == "\r" || $0 == "\n" || $0 == "\r\n" ? " " : $0 })
    }

    private static func appendDecimal(_ value: Int, to out: inout [UInt8]) {
        if value < 10 {
            out.append(0x30 + UInt8(value))
            return
        }
        var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                     UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
            (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var count = 0
        var rest = value
        withUnsafeMutableBytes(of: &digits) { buffer in
            while rest > 0 {
                buffer[count] = 0x30 + UInt8(rest % 10)
                rest /= 10
                count += 1
            }
            for i in stride(from: count - 1, through: 0, by: -1) { out.append(buffer[i]) }
        }
    }

    private mutating func refreshDate() {
        let now = time(nil)
        guard now != dateSecond else { return }
        dateSecond = now
        date = Self.imfFixdate(now)
    }

    /// RFC 9110 IMF-fixdate, e.g. `Sun, 06 Nov 1994 08:49:37 GMT`.
    static func imfFixdate(_ seconds: Int) -> [UInt8] {
        var t = seconds
        var parts = tm()
        gmtime_r(&t, &parts)
        let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        func two(_ n: Int32) -> String { n < 10 ? "0\(n)" : "\(n)" }
        let text = "\(days[Int(parts.tm_wday)]), \(two(parts.tm_mday)) \(months[Int(parts.tm_mon)]) "
            + "\(parts.tm_year + 1900) \(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec)) GMT"
        return Array(text.utf8)
    }
}
