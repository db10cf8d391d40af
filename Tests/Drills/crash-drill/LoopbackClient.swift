import Foundation
import Glibc

/// A blocking HTTP/1.1 client for one keep-alive connection to a loopback
/// port. It is deliberately plain: the drill must see exactly what the server
/// answered, or that it answered nothing, with no retry hidden inside.
final class LoopbackClient {
    let port: Int
    private var fd: Int32 = -1
    private var buffer: [UInt8] = []

    init(port: Int) { self.port = port }

    deinit { close() }

    /// Sends a request on the kept connection (connecting first if needed) and
    /// returns the response status, or nil when the server did not answer:
    /// refused, reset, closed or timed out. A nil leaves the connection closed.
    func send(_ request: [UInt8]) -> Int? {
        guard write(request) else { return nil }
        return readStatus()
    }

    /// Writes a request without reading the answer: the drill writes the
    /// same callback to two replicas before reading either answer.
    func write(_ request: [UInt8]) -> Bool {
        if fd < 0, !connect() { return false }
        var written = 0
        while written < request.count {
            let n = request[written...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { close(); return false }
            written += n
        }
        return true
    }

    /// Reads one response: its status, after its body is consumed.
    func readStatus() -> Int? {
        guard fd >= 0 else { return nil }
        while true {
            if let end = headEnd() {
                let head = String(decoding: buffer[..<end], as: UTF8.self)
                guard let status = Self.status(head) else { close(); return nil }
                let length = Self.contentLength(head) ?? 0
                while buffer.count < end + 4 + length {
                    guard fill() else { close(); return nil }
                }
                buffer.removeFirst(end + 4 + length)
                if head.lowercased().contains("connection: close") { close() }
                return status
            }
            guard fill() else { close(); return nil }
        }
    }

    func close() {
        if fd >= 0 { Glibc.close(fd) }
        fd = -1
        buffer.removeAll(keepingCapacity: true)
    }

    private func connect() -> Bool {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return false }
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
        if !connected { close() }
        return connected
    }

    private func fill() -> Bool {
        var chunk = [UInt8](repeating: 0, count: 16_384)
        while true {
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { return false }
            buffer.append(contentsOf: chunk[..<n])
            return true
        }
    }

    private func headEnd() -> Int? {
        guard buffer.count >= 4 else { return nil }
        for index in 0...(buffer.count - 4)
        where buffer[index] == 13 && buffer[index + 1] == 10 && buffer[index + 2] == 13 && buffer[index + 3] == 10 {
            return index
        }
        return nil
    }

    private static func status(_ head: String) -> Int? {
        let parts = head.split(separator: " ", maxSplits: 2)
        guard parts.count >= 2, parts[0].hasPrefix("HTTP/1.") else { return nil }
        return Int(parts[1])
    }

    private static func contentLength(_ head: String) -> Int? {
        for line in head.split(separator: "\r\n") {
            let pair = line.split(separator: ":", maxSplits: 1)
            if pair.count == 2, pair[0].lowercased() == "content-length" {
                return Int(pair[1].trimmingCharacters(in: .whitespaces))
            }
        }
        return nil
    }
}

/// The `POST` of a callback body to `path`.
func postRequest(path: String, body: [UInt8]) -> [UInt8] {
    let head = "POST \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        + "Content-Length: \(body.count)\r\n\r\n"
    return Array(head.utf8) + body
}

/// A `GET` of `path`.
func getRequest(path: String) -> [UInt8] {
    Array("GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".utf8)
}
