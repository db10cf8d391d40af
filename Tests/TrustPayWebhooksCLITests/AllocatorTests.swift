import Foundation
import Testing
import TestSupport

/// The binary allocates with jemalloc (Package.swift links it; see
/// ARCHITECTURE.md for the measurement). Failed with the linker setting
/// removed: only glibc's allocator was mapped.
@Suite struct AllocatorTests {
    @Test func theServerRunsOnJemalloc() async throws {
        let directory = try ScratchDirectory()
        defer { directory.remove() }
        let server = try await ServeProcess.start(secret: "allocator-test-secret", in: directory)
        defer { server.stop() }
        let maps = try String(contentsOfFile: "/proc/\(server.pid)/maps", encoding: .utf8)
        #expect(maps.contains("libjemalloc"), "jemalloc is not mapped into the serve process")
    }
}
