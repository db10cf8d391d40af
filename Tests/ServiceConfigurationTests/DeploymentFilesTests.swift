import Foundation
import Testing
@testable import ServiceConfiguration

/// The Dockerfile cannot be built here (no Docker engine); this checks what
/// can be checked without one.
@Suite struct DeploymentFilesTests {
    static let root = ConfigurationTests.repositoryRoot

    static func dockerfile() throws -> [String] {
        try String(contentsOf: root.appendingPathComponent("Dockerfile"), encoding: .utf8)
            .components(separatedBy: "\n")
    }

    @Test func everyPathTheDockerfileCopiesFromTheRepositoryExists() throws {
        let copies = try Self.dockerfile().filter { $0.hasPrefix("COPY ") && !$0.contains("--from=") }
        #expect(!copies.isEmpty)
        for line in copies {
            let parts = line.split(separator: " ").map(String.init)
            for source in parts.dropFirst().dropLast() {
                #expect(FileManager.default.fileExists(atPath: Self.root.appendingPathComponent(source).path),
                        "\(line): \(source) is missing")
            }
        }
    }

    @Test func imageRunsAsNonRootWithHealthcheckAndDataVolume() throws {
        let lines = try Self.dockerfile()
        #expect(lines.contains { $0.hasPrefix("USER ") && !$0.contains("root") })
        #expect(lines.contains { $0.hasPrefix("HEALTHCHECK ") && $0.contains("/healthz") })
        #expect(lines.contains { $0.hasPrefix("VOLUME ") && $0.contains("data") })
        #expect(lines.filter { $0.hasPrefix("FROM ") }.count == 2)
    }

    @Test func theConfigTheImageRunsIsValid() throws {
        let cmd = try #require(try Self.dockerfile().first { $0.hasPrefix("CMD ") })
        #expect(cmd.contains("config/default.yaml"))
        _ = try ServiceConfiguration.load(path: Self.root.appendingPathComponent("config/default.yaml").path,
                                          environment: ["TRUSTPAY_WEBHOOKS__SERVER__HOST": "0.0.0.0"])
    }
}
