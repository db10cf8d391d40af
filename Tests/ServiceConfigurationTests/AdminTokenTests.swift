import Foundation
import Testing
@testable import ServiceConfiguration

/// `admin.token`: a secret source like the merchants' secrets; absent, the
/// operator console stays off.
@Suite struct AdminTokenTests {
    static let merchant = ConfigurationTests.merchant

    @Test func theTokenIsASecretSourceAndOptional() throws {
        let none = try ServiceSettings.load(yaml: Self.merchant + "admin:\n  port: 0\n", environment: [:])
        #expect(none.admin?.token == nil)
        let inline = try ServiceSettings.load(yaml: Self.merchant + "admin:\n  token: abc\n", environment: [:])
        #expect(inline.admin?.token == .value("abc"))
        let env = try ServiceSettings.load(yaml: Self.merchant + "admin:\n  token: {env: CONSOLE_TOKEN}\n",
                                                environment: [:])
        #expect(env.admin?.token == .environment("CONSOLE_TOKEN"))
        #expect("\(inline.admin?.token.map { "\($0)" } ?? "")" == "<inline secret>", "never printed")
    }

    @Test func aTokenFileIsFoundBesideTheConfiguration() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("admin-token-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("serve.yaml")
        try Data((Self.merchant + "admin:\n  token: {file: console.token}\n").utf8).write(to: file)
        let config = try ServiceSettings.load(path: file.path, environment: [:])
        #expect(config.admin?.token == .file(folder.appendingPathComponent("console.token").path))
    }

    @Test func aMistypedTokenSectionNamesItsKey() throws {
        let error = try #require(ConfigurationSurprisesTests.loadError(
            Self.merchant + "admin:\n  token: {value: a, env: B}\n"))
        #expect(error.key == "admin.token")
    }
}
