import ChildProcesses
import Foundation
@testable import HTTPServer
import TrustPayWebhooksTesting
import Locking

/// A real server on an ephemeral loopback port, for one test.
final class LiveServer: Sendable {
    let server: Server
    let address: SocketAddress

    init(configuration: HTTPServerConfiguration = HTTPServerConfiguration(host: "127.0.0.1", port: 0),
         router: Router = LiveServer.standardRouter()) throws {
        server = Server(configuration: configuration, router: router)
        address = try server.start()[0]
    }

    var port: Int { address.port }
    var url: String { "http://\(address)" }

    func stop() {
        server.shutdown(drainTimeout: .seconds(2))
        server.waitUntilStopped()
    }

    static func configuration(
        host: String = "127.0.0.1", loops: Int = 2, _ adjust: (inout HTTPServerConfiguration) -> Void = { _ in }
    ) -> HTTPServerConfiguration {
        var configuration = HTTPServerConfiguration(host: host, port: 0)
        configuration.eventLoops = loops
        // Tests open clients ahead of use; on a machine loaded by parallel
        // builds a 10 s header timeout closed them before their turn (seen:
        // 16 of 20 answers missing). Timeout tests set their own.
        configuration.headerReadTimeout = .seconds(120)
        configuration.idleTimeout = .seconds(120)
        adjust(&configuration)
        return configuration
    }

    /// Routes the live tests share: health, echo, a slow async handler.
    static func standardRouter() -> Router {
        var router = Router()
        router.add(.get, "/healthz", .immediate { _ in
            HTTPResponse(status: .ok, contentType: "text/plain", body: "ok\n")
        })
        router.post("/echo") { request in
            HTTPResponse(status: .ok, headers: [("Content-Type", "application/octet-stream")], body: request.body)
        }
        router.get("/slow") { request in
            let ms = Int(request.query?.split(separator: "=").last ?? "") ?? 500
            try? await Task.sleep(for: .milliseconds(ms))
            return HTTPResponse(status: .ok, contentType: "text/plain", body: "slow \(ms)\n")
        }
        router.get("/gate") { request in
            let id = String(request.query?.split(separator: "=").last ?? "")
            await Gate.shared.wait(id)
            return HTTPResponse(status: .ok, contentType: "text/plain", body: "gate \(id)\n")
        }
        router.get("/peer") { request in
            HTTPResponse(status: .ok, contentType: "text/plain",
                         body: "\(request.isSecure ? "https" : "http") \(request.remoteAddress?.port ?? 0)")
        }
        return router
    }
}

/// Named gates a handler waits on until the test opens them: ordering
/// without timing. A handler's arrival at its gate is the signal that its
/// request is in flight.
actor Gate {
    static let shared = Gate()
    private var opened: Set<String> = []
    private var arrived: Set<String> = []
    private var waiting: [String: [CheckedContinuation<Void, Never>]] = [:]

    func wait(_ id: String) async {
        arrived.insert(id)
        if opened.contains(id) { return }
        await withCheckedContinuation { waiting[id, default: []].append($0) }
    }

    func hasArrived(_ id: String) -> Bool { arrived.contains(id) }

    /// Suspends until a handler has reached gate `id` (throws after 30 s).
    static func arrival(_ id: String) async throws {
        try await eventually("a handler reaching gate \(id)") { await shared.hasArrived(id) }
    }

    func open(_ id: String) {
        opened.insert(id)
        for continuation in waiting.removeValue(forKey: id) ?? [] { continuation.resume() }
    }
}

/// A blocking TCP client on raw sockets with a receive timeout, so a test
/// sees exactly the bytes the server sent.
final class WireClient: @unchecked Sendable {
    let fd: Int32

    init(port: Int, host: String = "127.0.0.1", timeoutSeconds: Int = 60) throws {
        let isV6 = host.contains(":")
        // Close-on-exec: a child another test spawns must not keep this
        // connection open after the test has closed it.
        fd = socket(isV6 ? AF_INET6 : AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        var tv = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        let rc: Int32
        if isV6 {
            var sin6 = sockaddr_in6()
            sin6.sin6_family = sa_family_t(AF_INET6)
            sin6.sin6_port = in_port_t(UInt16(port).bigEndian)
            inet_pton(AF_INET6, host, &sin6.sin6_addr)
            rc = withUnsafePointer(to: &sin6) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in6>.size))
                }
            }
        } else {
            var sin = sockaddr_in()
            sin.sin_family = sa_family_t(AF_INET)
            sin.sin_port = in_port_t(UInt16(port).bigEndian)
            inet_pton(AF_INET, host, &sin.sin_addr)
            rc = withUnsafePointer(to: &sin) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
        }
        guard rc == 0 else {
            // Not closed here: `fd` is initialised, so a throwing init
            // still runs deinit, which closes it. Closing it here as well
            // closed whatever socket another thread had just been given that
            // number (seen under TSan: "bind 127.0.0.1:0 failed: Bad file
            // descriptor" in another test).
            throw SocketError.system("connect", errno)
        }
    }

    deinit { close(fd) }

    func send(_ text: String) { send(Array(text.utf8)) }

    func send(_ bytes: [UInt8]) {
        var sent = 0
        while sent < bytes.count {
            let n = bytes[sent...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return }
            sent += n
        }
    }

    /// Half-closes: the server reads end-of-stream after what was sent.
    func shutdownWrite() { _ = Glibc.shutdown(fd, Int32(SHUT_WR)) }

    /// `recv`, again when a signal interrupted it (`EINTR` is not an answer:
    /// it would read as a server that closed or never answered).
    private func receive(_ buffer: UnsafeMutableRawBufferPointer) -> Int {
        while true {
            let n = recv(fd, buffer.baseAddress, buffer.count, 0)
            if n < 0 && errno == EINTR { continue }
            return n
        }
    }

    /// Everything until the server closes (or the timeout passes).
    func readToEndBlocking() -> String {
        var all: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = chunk.withUnsafeMutableBytes { receive($0) }
            if n <= 0 { break }
            all.append(contentsOf: chunk[0..<n])
        }
        return String(decoding: all, as: UTF8.self)
    }

    /// Everything the server sent before it closed its side; nil when it
    /// did not close within the receive timeout.
    func readUntilClosedBlocking() -> String? {
        var all: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = chunk.withUnsafeMutableBytes { receive($0) }
            if n == 0 || (n < 0 && errno == ECONNRESET) { return String(decoding: all, as: UTF8.self) }
            if n < 0 { return nil }
            all.append(contentsOf: chunk[0..<n])
        }
    }

    /// True when the server has closed its side (EOF), false on timeout.
    func isClosedByPeerBlocking() -> Bool {
        var byte: UInt8 = 0
        while true {
            let n = withUnsafeMutableBytes(of: &byte) { receive($0) }
            if n == 0 { return true }
            if n < 0 { return errno == ECONNRESET }
        }
    }

    /// How many received bytes wait unread, up to `limit` (checked without waiting).
    func bytesWaiting(upTo limit: Int) -> Int {
        var scratch = [UInt8](repeating: 0, count: limit)
        return max(0, scratch.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, Int32(MSG_PEEK | MSG_DONTWAIT)) })
    }

    /// Reads exactly one response: head, then `Content-Length` body bytes.
    func readResponseBlocking() -> WireResponse? {
        var buffered: [UInt8] = pending
        pending = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        func fill() -> Bool {
            let n = chunk.withUnsafeMutableBytes { receive($0) }
            if n <= 0 { return false }
            buffered.append(contentsOf: chunk[0..<n])
            return true
        }
        var headEnd: Int?
        while headEnd == nil {
            headEnd = WireResponse.findHeadEnd(buffered)
            if headEnd == nil && !fill() { return nil }
        }
        let headText = String(decoding: buffered[0..<headEnd!], as: UTF8.self)
        var response = WireResponse(head: headText)
        let length = Int(response.header("content-length") ?? "0") ?? 0
        let bodyStart = headEnd! + 4
        let interim = response.status == 100
        let needed = interim ? 0 : length
        while buffered.count < bodyStart + needed {
            if !fill() { return nil }
        }
        response.body = String(decoding: buffered[bodyStart..<(bodyStart + needed)], as: UTF8.self)
        pending = Array(buffered[(bodyStart + needed)...])
        return response
    }

    private var pending: [UInt8] = []

    // Async forms: the waiting happens on a thread of its own, never on the
    // cooperative pool that the server's handlers and other tests share.
    func readResponse() async -> WireResponse? { await offPool { self.readResponseBlocking() } }
    func isClosedByPeer() async -> Bool { await offPool { self.isClosedByPeerBlocking() } }
    func readToEnd() async -> String { await offPool { self.readToEndBlocking() } }
    func readUntilClosed() async -> String? { await offPool { self.readUntilClosedBlocking() } }
}

/// True when nothing listens on the port any more: connecting is refused.
func connectionRefused(port: Int, host: String = "127.0.0.1") async -> Bool {
    await offPool {
        do {
            _ = try WireClient(port: port, host: host)
            return false
        } catch {
            return true
        }
    }
}

/// Runs `work` and reports whether it finished within `limit`, without
/// waiting longer than that for work that may never end.
func completes(within limit: Duration, _ work: @escaping @Sendable () async -> Void) async -> Bool {
    let first = FirstAnswer()
    let timer = Task {
        try? await Task.sleep(for: limit)
        first.give(false)
    }
    Task {
        await work()
        first.give(true)
    }
    let answer = await first.value()
    timer.cancel()
    return answer
}

/// The first of several answers; later ones are ignored.
private final class FirstAnswer: Sendable {
    private struct State {
        var answer: Bool?
        var waiter: CheckedContinuation<Bool, Never>?
    }

    private let state = Locked(State())

    func give(_ answer: Bool) {
        let waiter: CheckedContinuation<Bool, Never>? = state.withLock { state in
            guard state.answer == nil else { return nil }
            state.answer = answer
            return state.waiter.take()
        }
        waiter?.resume(returning: answer)
    }

    func value() async -> Bool {
        await withCheckedContinuation { continuation in
            let ready: Bool? = state.withLock { state in
                if state.answer == nil { state.waiter = continuation }
                return state.answer
            }
            if let ready { continuation.resume(returning: ready) }
        }
    }
}

/// Runs blocking work on a new thread and waits for it without holding a
/// Swift concurrency thread.
func offPool<T: Sendable>(_ work: @escaping @Sendable () -> T) async -> T {
    await withCheckedContinuation { continuation in
        Thread { continuation.resume(returning: work()) }.start()
    }
}

func offPool<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread { continuation.resume(with: Result { try work() }) }.start()
    }
}

struct WireResponse {
    var status: Int
    var headers: [(String, String)]
    var body = ""

    init(head: String) {
        let lines = head.components(separatedBy: "\r\n")
        let parts = lines[0].split(separator: " ")
        status = parts.count > 1 ? Int(parts[1]) ?? 0 : 0
        headers = lines.dropFirst().compactMap { line in
            guard let colon = line.firstIndex(of: ":") else { return nil }
            return (String(line[..<colon]).lowercased(),
                    line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
        }
    }

    func header(_ name: String) -> String? { headers.first { $0.0 == name }?.1 }

    static func findHeadEnd(_ bytes: [UInt8]) -> Int? {
        guard bytes.count >= 4 else { return nil }
        for i in 0...(bytes.count - 4)
        where bytes[i] == 13 && bytes[i + 1] == 10 && bytes[i + 2] == 13 && bytes[i + 3] == 10 {
            return i
        }
        return nil
    }
}

/// Runs an external program (curl, openssl, python3) and captures its output.
struct ExternalProgram {
    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    static func run(_ executable: String, _ arguments: [String], input: String? = nil,
                    directory: String? = nil) async throws -> Result {
        let result = try await ChildProcess.run(
            [executable] + arguments, input: input.map { .bytes(Array($0.utf8)) } ?? .null, directory: directory)
        return Result(status: result.status, stdout: result.stdout, stderr: result.stderr)
    }
}
