import COpenSSL
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// One HTTP/1.1 POST over a socket of its own, for what Foundation's
/// URLSession on Linux cannot do: it refuses IPv6 literal hosts
/// (`http://[::1]:8080/…` fails as a bad URL) and it offers no way to trust a
/// private CA or to skip verification (libcurl's CA bundle is fixed; the
/// `URLSessionCertificateAuthorityInfoFile` variable is read on Android only).
/// TLS is OpenSSL's, verifying the chain and the host name (or IP address)
/// unless `insecure`.
struct DirectPost: Sendable {
    let scheme: String
    /// Without brackets.
    let host: String
    let port: Int
    /// Path and query.
    let target: String
    /// A PEM file of trusted CAs (default: the system's).
    let caFile: String?
    let insecure: Bool
    let timeout: Double

    struct Failure: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }

    /// `scheme://host[:port]/path` with an IPv6 host in brackets; nil if it is not such a URL.
    init?(url: String, caFile: String?, insecure: Bool, timeout: Double) {
        guard let separator = url.range(of: "://") else { return nil }
        scheme = url[..<separator.lowerBound].lowercased()
        guard scheme == "http" || scheme == "https" else { return nil }
        let rest = url[separator.upperBound...]
        let authority = rest.prefix { $0 != "/" && $0 != "?" }
        let path = rest.dropFirst(authority.count)
        target = path.isEmpty ? "/" : path.hasPrefix("?") ? "/" + path : String(path)
        var portText: Substring?
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { return nil }
            host = String(authority[authority.index(after: authority.startIndex)..<close])
            let after = authority[authority.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { return nil }
                portText = after.dropFirst()
            }
        } else if let colon = authority.lastIndex(of: ":") {
            host = String(authority[..<colon])
            portText = authority[authority.index(after: colon)...]
        } else {
            host = String(authority)
        }
        guard !host.isEmpty, !host.contains("@") else { return nil }
        if let portText {
            guard let port = Int(portText), (1...65535).contains(port) else { return nil }
            self.port = port
        } else {
            port = scheme == "https" ? 443 : 80
        }
        self.caFile = caFile
        self.insecure = insecure
        self.timeout = timeout
    }

    var isIPv6Literal: Bool { host.contains(":") }

    /// Posts `body` on a thread of its own (the I/O blocks) and returns the
    /// answer's status and body.
    func post(_ body: [UInt8]) async throws -> (status: Int, body: String) {
        try await withCheckedThrowingContinuation { continuation in
            let thread = Thread {
                do {
                    continuation.resume(returning: try self.postBlocking(body))
                } catch {
                    continuation.resume(throwing: error)
                }
            }
            thread.start()
        }
    }

    private func postBlocking(_ body: [UInt8]) throws -> (status: Int, body: String) {
        let fd = try connect()
        defer { close(fd) }
        let hostHeader = (isIPv6Literal ? "[\(host)]" : host)
            + (port == (scheme == "https" ? 443 : 80) ? "" : ":\(port)")
        let head = "POST \(target) HTTP/1.1\r\nHost: \(hostHeader)\r\nContent-Type: application/json\r\n"
            + "Content-Length: \(body.count)\r\nConnection: close\r\nUser-Agent: trustpay-webhooks-send\r\n\r\n"
        let request = Array(head.utf8) + body
        let response: [UInt8]
        if scheme == "https" {
            response = try TLSConnection(fd: fd, post: self).exchange(request)
        } else {
            try Self.writeAll(request) { pointer, count in Glibc.write(fd, pointer, count) }
            response = try Self.readResponse { buffer, count in Glibc.read(fd, buffer, count) }
        }
        return try Self.parse(response)
    }

    /// A connected, blocking socket with send and receive timeouts.
    private func connect() throws -> Int32 {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = AI_NUMERICSERV
        var list: UnsafeMutablePointer<addrinfo>?
        let rc = getaddrinfo(host, String(port), &hints, &list)
        guard rc == 0, let first = list else {
            throw Failure("cannot resolve \(host): \(String(cString: gai_strerror(rc)))")
        }
        defer { freeaddrinfo(list) }
        var lastError = "no address"
        var entry: UnsafeMutablePointer<addrinfo>? = first
        while let info = entry {
            entry = info.pointee.ai_next
            let fd = socket(info.pointee.ai_family, info.pointee.ai_socktype, info.pointee.ai_protocol)
            guard fd >= 0 else { lastError = String(cString: strerror(errno)); continue }
            if connect(fd, info.pointee.ai_addr, info.pointee.ai_addrlen, within: timeout) {
                var interval = timeval(tv_sec: Int(timeout), tv_usec: Int((timeout - timeout.rounded(.down)) * 1e6))
                _ = setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &interval, socklen_t(MemoryLayout<timeval>.size))
                _ = setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &interval, socklen_t(MemoryLayout<timeval>.size))
                return fd
            }
            lastError = String(cString: strerror(errno))
            close(fd)
        }
        throw Failure("cannot connect to \(host) port \(port): \(lastError)")
    }

    /// A non-blocking connect waited for at most `seconds`; the socket is blocking again after.
    private func connect(_ fd: Int32, _ address: UnsafePointer<sockaddr>, _ length: socklen_t, within seconds: Double)
        -> Bool
    {
        let flags = fcntl(fd, F_GETFL)
        _ = fcntl(fd, F_SETFL, flags | O_NONBLOCK)
        defer { _ = fcntl(fd, F_SETFL, flags) }
        if Glibc.connect(fd, address, length) == 0 { return true }
        guard errno == EINPROGRESS else { return false }
        var poller = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
        let ready = poll(&poller, 1, Int32(seconds * 1000))
        guard ready == 1 else {
            errno = ready == 0 ? ETIMEDOUT : errno
            return false
        }
        var error: Int32 = 0
        var size = socklen_t(MemoryLayout<Int32>.size)
        _ = getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &size)
        errno = error
        return error == 0
    }

    static func writeAll(_ bytes: [UInt8], _ write: (UnsafeRawPointer, Int) -> Int) throws {
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { write($0.baseAddress! + offset, bytes.count - offset) }
            guard written > 0 else { throw Failure("the connection failed while sending") }
            offset += written
        }
    }

    /// Reads until the answer is complete (Content-Length, the last chunk) or the peer closes.
    static func readResponse(_ read: (UnsafeMutableRawPointer, Int) -> Int) throws -> [UInt8] {
        var response: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 16384)
        while !isComplete(response) {
            let count = buffer.withUnsafeMutableBytes { read($0.baseAddress!, $0.count) }
            if count <= 0 {
                guard !response.isEmpty else { throw Failure("the connection closed without an answer") }
                break
            }
            response += buffer[..<count]
        }
        return response
    }

    private static func headerEnd(_ bytes: [UInt8]) -> Int? {
        guard bytes.count >= 4 else { return nil }
        for index in 0...(bytes.count - 4)
        where bytes[index] == 13 && bytes[index + 1] == 10 && bytes[index + 2] == 13 && bytes[index + 3] == 10 {
            return index + 4
        }
        return nil
    }

    private static func headers(_ bytes: [UInt8], end: Int) -> [String: String] {
        var result: [String: String] = [:]
        for line in String(decoding: bytes[..<end], as: UTF8.self).components(separatedBy: "\r\n").dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            result[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        return result
    }

    private static func isComplete(_ bytes: [UInt8]) -> Bool {
        guard let end = headerEnd(bytes) else { return false }
        let fields = headers(bytes, end: end)
        if let length = fields["content-length"].flatMap(Int.init) { return bytes.count - end >= length }
        if fields["transfer-encoding"]?.lowercased().contains("chunked") == true {
            return bytes.count >= end + 5 && Array(bytes.suffix(5)) == Array("0\r\n\r\n".utf8)
        }
        return false
    }

    static func parse(_ response: [UInt8]) throws -> (status: Int, body: String) {
        guard let end = headerEnd(response) else { throw Failure("the answer is not HTTP") }
        let statusLine = String(decoding: response.prefix { $0 != 13 }, as: UTF8.self)
        let parts = statusLine.split(separator: " ")
        guard parts.count >= 2, parts[0].hasPrefix("HTTP/1."), let status = Int(parts[1]) else {
            throw Failure("the answer is not HTTP: \(statusLine.prefix(60))")
        }
        var body = Array(response[end...])
        let fields = headers(response, end: end)
        if let length = fields["content-length"].flatMap(Int.init) {
            body = Array(body.prefix(length))
        } else if fields["transfer-encoding"]?.lowercased().contains("chunked") == true {
            body = dechunk(body)
        }
        return (status, String(decoding: body, as: UTF8.self))
    }

    private static func dechunk(_ bytes: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        var index = 0
        while index < bytes.count {
            guard let lineEnd = (index..<bytes.count - 1).first(where: { bytes[$0] == 13 && bytes[$0 + 1] == 10 }),
                  let size = Int(String(decoding: bytes[index..<lineEnd], as: UTF8.self)
                    .split(separator: ";").first ?? "", radix: 16), size > 0
            else { break }
            let start = lineEnd + 2
            out += bytes[start..<min(start + size, bytes.count)]
            index = start + size + 2
        }
        return out
    }
}

/// A client TLS session on a connected socket, for ``DirectPost``.
private struct TLSConnection {
    let fd: Int32
    let post: DirectPost

    func exchange(_ request: [UInt8]) throws -> [UInt8] {
        guard let context = SSL_CTX_new(TLS_client_method()) else { throw Self.failure("cannot create a TLS context") }
        defer { SSL_CTX_free(context) }
        _ = copenssl_ctx_set_min_proto(context, copenssl_tls1_2_version())
        if post.insecure {
            SSL_CTX_set_verify(context, SSL_VERIFY_NONE, nil)
        } else {
            SSL_CTX_set_verify(context, SSL_VERIFY_PEER, nil)
            if let caFile = post.caFile {
                guard SSL_CTX_load_verify_locations(context, caFile, nil) == 1 else {
                    throw Self.failure("cannot read CA certificates from \(caFile)")
                }
            } else if SSL_CTX_set_default_verify_paths(context) != 1 {
                throw Self.failure("cannot load the system's CA certificates")
            }
        }
        guard let ssl = SSL_new(context) else { throw Self.failure("cannot create a TLS session") }
        defer { SSL_free(ssl) }
        let isIPAddress = post.isIPv6Literal || post.host.allSatisfy { $0.isNumber || $0 == "." }
        if !isIPAddress {
            // SNI (a macro in C: SSL_set_tlsext_host_name).
            _ = post.host.withCString {
                SSL_ctrl(ssl, SSL_CTRL_SET_TLSEXT_HOSTNAME, Int(TLSEXT_NAMETYPE_host_name), UnsafeMutableRawPointer(mutating: $0))
            }
        }
        if !post.insecure {
            let checked = isIPAddress
                ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), post.host) : SSL_set1_host(ssl, post.host)
            guard checked == 1 else { throw Self.failure("cannot check the server's name \(post.host)") }
        }
        guard SSL_set_fd(ssl, fd) == 1 else { throw Self.failure("cannot attach TLS to the socket") }
        guard SSL_connect(ssl) == 1 else {
            let verify = SSL_get_verify_result(ssl)
            if verify != X509_V_OK {
                let reason = String(cString: X509_verify_cert_error_string(verify))
                throw DirectPost.Failure("TLS handshake failed: certificate not trusted: \(reason)"
                    + (post.caFile == nil ? " (give --cacert FILE for a private CA)" : ""))
            }
            throw Self.failure("TLS handshake failed")
        }
        try DirectPost.writeAll(request) { pointer, count in Int(SSL_write(ssl, pointer, Int32(min(count, Int(Int32.max))))) }
        let response = try DirectPost.readResponse { buffer, count in Int(SSL_read(ssl, buffer, Int32(count))) }
        _ = SSL_shutdown(ssl)
        return response
    }

    /// `message`, with OpenSSL's first queued error if any (the queue is cleared).
    static func failure(_ message: String) -> DirectPost.Failure {
        let code = ERR_get_error()
        ERR_clear_error()
        guard code != 0 else { return DirectPost.Failure(message) }
        var buffer = [CChar](repeating: 0, count: 256)
        ERR_error_string_n(code, &buffer, buffer.count)
        return DirectPost.Failure("\(message): \(String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))")
    }
}
