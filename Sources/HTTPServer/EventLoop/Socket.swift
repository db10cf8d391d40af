import CLinuxSys
import Glibc

/// A failed system call, with the call's name and errno.
public enum SocketError: Error, Sendable, CustomStringConvertible {
    case system(String, Int32)
    case invalidAddress(String)
    /// Another socket (another server, or another program) listens there.
    case addressInUse(SocketAddress)

    public var description: String {
        switch self {
        case .addressInUse(let address):
            "\(address) is already in use: another process listens on port \(address.port)"
        case .system(let call, let code):
            "\(call) failed: \(String(cString: strerror(code))) (errno \(code))"
        case .invalidAddress(let host):
            "not a numeric IPv4 or IPv6 address: \(host)"
        }
    }
}

/// A numeric IP address and port the server binds or a peer connects from.
public struct SocketAddress: Sendable, Equatable, CustomStringConvertible {
    public var host: String
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    public var isIPv6: Bool { host.contains(":") }

    public var description: String { isIPv6 ? "[\(host)]:\(port)" : "\(host):\(port)" }

    /// Reads a `sockaddr_storage` filled by accept/getsockname.
    init(storage: sockaddr_storage) {
        var storage = storage
        var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN) + 1)
        if storage.ss_family == sa_family_t(AF_INET6) {
            let (host, port) = withUnsafePointer(to: &storage) { raw in
                raw.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { sin6 in
                    var addr = sin6.pointee.sin6_addr
                    inet_ntop(AF_INET6, &addr, &text, socklen_t(text.count))
                    return (String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self),
                            Int(UInt16(bigEndian: sin6.pointee.sin6_port)))
                }
            }
            self.init(host: host, port: port)
        } else {
            let (host, port) = withUnsafePointer(to: &storage) { raw in
                raw.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { sin in
                    var addr = sin.pointee.sin_addr
                    inet_ntop(AF_INET, &addr, &text, socklen_t(text.count))
                    return (String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self),
                            Int(UInt16(bigEndian: sin.pointee.sin_port)))
                }
            }
            self.init(host: host, port: port)
        }
    }
}

enum Socket {
    /// A non-blocking listening socket, the only one on its address: every
    /// event loop polls this one socket (EPOLLEXCLUSIVE), so no SO_REUSEPORT
    /// group exists for a second process to join. A port in use fails here.
    static func listen(on address: SocketAddress, backlog: Int32) throws(SocketError) -> Int32 {
        let family = address.isIPv6 ? AF_INET6 : AF_INET
        let fd = socket(family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw .system("socket", errno) }
        var on: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, socklen_t(MemoryLayout<Int32>.size))
        if address.isIPv6 {
            setsockopt(fd, Int32(IPPROTO_IPV6), IPV6_V6ONLY, &on, socklen_t(MemoryLayout<Int32>.size))
        }
        let bound: Int32
        if address.isIPv6 {
            var sin6 = sockaddr_in6()
            sin6.sin6_family = sa_family_t(AF_INET6)
            sin6.sin6_port = in_port_t(UInt16(address.port).bigEndian)
            guard inet_pton(AF_INET6, address.host, &sin6.sin6_addr) == 1 else {
                close(fd)
                throw .invalidAddress(address.host)
            }
            bound = withUnsafePointer(to: &sin6) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in6>.size))
                }
            }
        } else {
            var sin = sockaddr_in()
            sin.sin_family = sa_family_t(AF_INET)
            sin.sin_port = in_port_t(UInt16(address.port).bigEndian)
            guard inet_pton(AF_INET, address.host, &sin.sin_addr) == 1 else {
                close(fd)
                throw .invalidAddress(address.host)
            }
            bound = withUnsafePointer(to: &sin) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
        }
        guard bound == 0 else {
            let code = errno
            close(fd)
            throw code == EADDRINUSE ? .addressInUse(address) : .system("bind \(address)", code)
        }
        guard Glibc.listen(fd, backlog) == 0 else {
            let code = errno
            close(fd)
            throw .system("listen", code)
        }
        return fd
    }

    /// The address a socket is bound to (the real port after binding port 0).
    static func localAddress(of fd: Int32) -> SocketAddress? {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let ok = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return ok == 0 ? SocketAddress(storage: storage) : nil
    }

    /// What one `accept` gave.
    enum Accepted {
        case connection(fd: Int32, peer: SocketAddress)
        /// Nothing pending.
        case none
        /// EMFILE, ENFILE, ENOBUFS or ENOMEM: the connection stays queued
        /// and polling the listener again now would only spin.
        case outOfResources(Int32)
        /// That one connection failed (ECONNABORTED, EPERM…); others may not.
        case failed
    }

    /// Accepts one pending connection, non-blocking and close-on-exec.
    static func accept(_ listener: Int32) -> Accepted {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let fd = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                accept4(listener, $0, &length, Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue))
            }
        }
        guard fd >= 0 else {
            switch errno {
            case EAGAIN: return .none
            case EMFILE, ENFILE, ENOBUFS, ENOMEM: return .outOfResources(errno)
            default: return .failed
            }
        }
        var on: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &on, socklen_t(MemoryLayout<Int32>.size))
        return .connection(fd: fd, peer: SocketAddress(storage: storage))
    }
}
