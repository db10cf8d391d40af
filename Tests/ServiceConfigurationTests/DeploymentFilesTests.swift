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

    /// The image's database must land in its data volume: relative paths in
    /// a `--config` file resolve from the file's folder, those of the
    /// embedded defaults from the working directory.
    @Test func theConfigTheImageRunsIsValidAndKeepsItsDatabaseInTheVolume() throws {
        let lines = try Self.dockerfile()
        let cmd = try #require(lines.first { $0.hasPrefix("CMD ") })
        let workdir = try #require(lines.last { $0.hasPrefix("WORKDIR ") }?.split(separator: " ").last.map(String.init))
        let volume = try #require(lines.first { $0.hasPrefix("VOLUME ") })
        let environment = ["TRUSTPAY_WEBHOOKS__SERVER__HOST": "0.0.0.0"]
        let arguments = cmd.split(separator: "\"").enumerated().filter { $0.offset % 2 == 1 }.map { String($0.element) }
        let config: ServiceSettings
        if let index = arguments.firstIndex(of: "--config"), index + 1 < arguments.count {
            let file = arguments[index + 1]
            let yaml = try String(contentsOf: Self.root.appendingPathComponent(file), encoding: .utf8)
            let folder = URL(fileURLWithPath: workdir).appendingPathComponent(file).deletingLastPathComponent().path
            config = try ServiceSettings.load(yaml: yaml, baseDirectory: folder, environment: environment)
        } else {
            config = try ServiceSettings.load(yaml: ServiceSettings.defaultYAML, environment: environment)
        }
        let database = URL(fileURLWithPath: config.store.sqlitePath,
                           relativeTo: URL(fileURLWithPath: workdir, isDirectory: true)).standardizedFileURL.path
        let volumePath = try #require(volume.split(separator: "\"").dropFirst().first.map(String.init))
        #expect(database.hasPrefix(volumePath + "/"), "the image keeps its database at \(database), outside \(volume)")
    }
}
