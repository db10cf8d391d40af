import ArgumentParser
import Foundation
import Logging
import ServiceConfiguration

struct CheckConfig: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-config",
        abstract: "Validate the configuration (and resolve its secrets) without starting anything.",
        discussion: "Exit status 0 when valid, 2 with the offending key named otherwise. Secrets are never printed.")

    @OptionGroup var options: ConfigOptions

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        let config = try options.load(environment: environment)
        var logger = Logger(label: "check-config")
        logger.logLevel = .error
        _ = try ConfigOptions.orExit2 { try ServiceAssembly(config, environment: environment, logger: logger) }
        let routes = config.routes
        print("configuration is valid")
        print("  listen:    \(config.server.host):\(config.server.port)\(config.server.tlsCertificate == nil ? "" : " (TLS)")")
        print("  store:     \(config.store.kind.rawValue)\(config.store.kind == .sqlite ? " at \(config.store.sqlitePath)" : "")")
        print("  merchants: \(config.merchants.map { "\($0.id) (\($0.secrets.count) secret\($0.secrets.count == 1 ? "" : "s"))" }.joined(separator: ", "))")
        print("  routes:    POST \(routes.payment.path) [\(routes.payment.dispatch.rawValue)]"
            + routes.cards.map { ", POST \($0.path) [merchant \($0.merchant)]" }.joined()
            + ", POST \(routes.riskControl.path)")
        print("  handlers:  \(config.handlers.map(\.name).joined(separator: ", "))")
    }
}
