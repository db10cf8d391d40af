import ArgumentParser
import Foundation
import Logging
import ServiceConfiguration

struct CheckConfig: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-config",
        abstract: "Validate the configuration (and resolve its secrets) without starting anything.",
        discussion: """
            Runs every check serve runs before binding a port: TLS files load, the PostgreSQL URL parses, \
            forward secrets have the Standard Webhooks form, files can be written. Run it where, and as the \
            user, serve runs. Exit status 0 when valid, 2 with the offending key named otherwise (and the \
            environment variable, when one set it). Secrets are never printed.
            """)

    @OptionGroup var options: ConfigOptions

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        let config = try options.load(environment: environment)
        var logger = Logger(label: "check-config")
        logger.logLevel = .error
        _ = try ConfigOptions.orExit2 { try ServiceAssembly(config, environment: environment, logger: logger) }
        let routes = config.routes
        let server = config.server
        print("configuration is valid (\(config.sources.file ?? "embedded defaults"))")
        print("  callbacks on \(server.tlsCertificate == nil ? "http" : "https")://\(Self.address(server.host, server.port))")
        if let admin = config.admin {
            let console = admin.token == nil ? "" : ", operator console /console/"
            print("  admin on http://\(Self.address(admin.host, admin.port)) (\(routes.metrics), \(routes.readyz)\(console))")
        }
        print("  store:     \(config.store.kind.rawValue)\(config.store.kind == .sqlite ? " at \(config.store.sqlitePath)" : "")")
        print("  merchants: " + config.merchants.map { merchant in
            let secrets = "\(merchant.secrets.count) secret\(merchant.secrets.count == 1 ? "" : "s")"
            return "\(merchant.id) (\(secrets); amounts \(merchant.numberForms.map(\.rawValue).joined(separator: ", ")))"
        }.joined(separator: ", "))
        print("  routes:    POST \(routes.payment.path) [\(routes.payment.dispatch.rawValue)]"
            + routes.cards.map { ", POST \($0.path) [merchant \($0.merchant)]" }.joined()
            + ", POST \(routes.riskControl.path)")
        if config.handlers.isEmpty {
            print("  handlers:  none (handlers: []): events are stored, but nothing handles them")
        } else {
            print("  handlers:  \(config.handlers.map(\.name).joined(separator: ", "))")
        }
    }

    static func address(_ host: String, _ port: Int) -> String {
        let shown = host.contains(":") ? "[\(host)]" : host
        return port == 0 ? "\(shown):0 (a free port, logged at start)" : "\(shown):\(port)"
    }
}
