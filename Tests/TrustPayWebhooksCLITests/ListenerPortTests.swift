import Foundation
import Testing
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

/// A port held by another process ends `serve` with a message naming the
/// port and the key it came from; the running server keeps every callback.
@Suite struct ListenerPortTests {
    /// Failed while every loop bound its own SO_REUSEPORT socket: the second
    /// `serve` started, and the kernel split callbacks between the two.
    @Test func secondServeOnTheSamePortExitsNonZeroNamingThePort() async throws {
        let firstFolder = try ScratchDirectory()
        let secondFolder = try ScratchDirectory()
        defer { firstFolder.remove(); secondFolder.remove() }
        let config = "server:\n  host: 127.0.0.1\n  port: 0\n  event_loops: 2\nstore:\n  kind: memory\nmerchants:\n"
            + "  - id: \(ScratchDirectory.merchantID)\n    secrets: [{value: \"s\"}]\n"
        let first = try await ServeProcess.start(config: config, in: firstFolder)
        defer { first.stop() }

        let file = secondFolder.file("serve.yaml", contents: config)
        let second = try await BuiltCLI.run(
            ["serve", "--config", file.path, "--port", "\(first.port)"], in: secondFolder)
        #expect(second.status != 0, "\(second.output)")
        #expect(second.stderr.contains("--port: 127.0.0.1:\(first.port) is already in use"), "\(second.output)")

        let viaConfig = secondFolder.file(
            "port.yaml", contents: config.replacingOccurrences(of: "port: 0", with: "port: \(first.port)"))
        let third = try await BuiltCLI.run(["serve", "--config", viaConfig.path], in: secondFolder)
        #expect(third.status != 0, "\(third.output)")
        #expect(third.stderr.contains("server.port: 127.0.0.1:\(first.port) is already in use"), "\(third.output)")

        #expect(kill(first.pid, 0) == 0, "the first serve must still run")
    }

    /// The admin listener on a port another process holds: named by its key.
    @Test func adminListenerOnAPortInUseExitsNamingAdminPort() async throws {
        let firstFolder = try ScratchDirectory()
        let secondFolder = try ScratchDirectory()
        defer { firstFolder.remove(); secondFolder.remove() }
        let merchants = "merchants:\n  - id: \(ScratchDirectory.merchantID)\n    secrets: [{value: \"s\"}]\n"
        let base = "server:\n  host: 127.0.0.1\n  port: 0\n  event_loops: 1\nstore:\n  kind: memory\n" + merchants
        let first = try await ServeProcess.start(config: base, in: firstFolder)
        defer { first.stop() }
        let file = secondFolder.file("serve.yaml", contents: base + "admin:\n  host: 127.0.0.1\n  port: \(first.port)\n")
        let second = try await BuiltCLI.run(["serve", "--config", file.path], in: secondFolder)
        #expect(second.status != 0, "\(second.output)")
        #expect(second.stderr.contains("admin.port: 127.0.0.1:\(first.port) is already in use"), "\(second.output)")
    }
}
