import Foundation
import Testing
import TestSupport
import TrustPayWebhooksTesting

#if canImport(Glibc)
import Glibc
#endif

/// Out of file descriptors, the server waits instead of spinning, and
/// serves again once descriptors free up.
@Suite struct DescriptorExhaustionTests {
    /// 120 clients against a server allowed 64 descriptors. Failed while a
    /// failed `accept` left the listener polled: the loop took a whole core
    /// (about 3 s of CPU in 3 s) until the clients went away.
    @Test func aServerOutOfDescriptorsDoesNotSpinAndRecovers() async throws {
        let folder = try ScratchDirectory()
        defer { folder.remove() }
        let config = "server:\n  host: 127.0.0.1\n  port: 0\n  event_loops: 1\nstore:\n  kind: memory\nmerchants:\n"
            + "  - id: \(ScratchDirectory.merchantID)\n    secrets: [{value: \"s\"}]\n"
        let serve = try await ServeProcess.start(config: config, in: folder, openFiles: 64)
        defer { serve.stop() }

        var clients: [Int32] = []
        defer { for fd in clients { close(fd) } }
        for _ in 0..<120 { clients.append(try #require(Self.connect(port: serve.port))) }
        try await eventually("accept paused") {
            Self.log(folder).contains("accept paused: out of file descriptors")
        }
        let before = try Self.cpuTicks(serve.pid)
        try await Task.sleep(for: .seconds(3))
        let used = Double(try Self.cpuTicks(serve.pid) - before) / Double(sysconf(Int32(_SC_CLK_TCK)))
        #expect(used < 0.5, "\(used) s of CPU in 3 s while out of descriptors")

        for fd in clients { close(fd) }
        clients.removeAll()
        try await eventually("served again") { Self.healthz(port: serve.port) }
        let log = Self.log(folder)
        #expect(log.contains("exceeds what the open-files limit allows (64 descriptors"), "\(log)")
    }

    /// A blocking loopback connection with a 5 s receive timeout, or nil.
    static func connect(port: Int) -> Int32? {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return nil }
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        inet_pton(AF_INET, "127.0.0.1", &address.sin_addr)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else {
            close(fd)
            return nil
        }
        return fd
    }

    /// Whether `GET /healthz` on a new connection is answered 200.
    static func healthz(port: Int) -> Bool {
        guard let fd = connect(port: port) else { return false }
        defer { close(fd) }
        let request = Array("GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n".utf8)
        guard send(fd, request, request.count, Int32(MSG_NOSIGNAL)) == request.count else { return false }
        var answer = [UInt8](repeating: 0, count: 64)
        let n = recv(fd, &answer, answer.count, 0)
        return n > 0 && String(decoding: answer[0..<n], as: UTF8.self).hasPrefix("HTTP/1.1 200")
    }

    static func log(_ folder: ScratchDirectory) -> String {
        (try? String(contentsOf: folder.url.appendingPathComponent("serve.log"), encoding: .utf8)) ?? ""
    }

    /// utime + stime of a process, in clock ticks (/proc/PID/stat fields 14, 15).
    static func cpuTicks(_ pid: Int32) throws -> Int {
        let stat = try String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)
        // The command name may hold spaces; fields are counted after its ")".
        let fields = stat[stat.range(of: ")")!.upperBound...].split(separator: " ")
        return Int(fields[11])! + Int(fields[12])!
    }
}
