import ArgumentParser
import HTTPServer
import Logging

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the webhook server.")

    @Option(help: "Address to bind (IPv4 or IPv6, numeric).")
    var host = "127.0.0.1"

    @Option(help: "Port to bind; 0 picks a free port and logs it.")
    var port = 8080

    @Option(help: "Event loop threads (default: one per core).")
    var eventLoops: Int?

    @Option(help: "PEM certificate chain: serve HTTPS instead of HTTP.")
    var tlsCertificate: String?

    @Option(help: "PEM private key for --tls-certificate.")
    var tlsKey: String?

    func validate() throws {
        if (tlsCertificate == nil) != (tlsKey == nil) {
            throw ValidationError("--tls-certificate and --tls-key go together")
        }
        if !(0...65535).contains(port) { throw ValidationError("--port must be 0...65535") }
    }

    func run() async throws {
        LoggingSystem.bootstrap(StreamLogHandler.standardError)
        let logger = Logger(label: "trustpay-webhooks")
        var listener = ListenerConfiguration(host: host, port: port)
        if let tlsCertificate, let tlsKey {
            listener.tls = TLSConfiguration(certificateChainPath: tlsCertificate, privateKeyPath: tlsKey)
        }
        var configuration = HTTPServerConfiguration(listeners: [listener])
        if let eventLoops { configuration.eventLoops = eventLoops }

        var router = Router()
        router.add(.get, "/healthz", .immediate { _ in Health.ok })
        let server = HTTPServer(configuration: configuration, router: router, logger: logger)
        try server.start()
        ShutdownSignals.install { _ in server.shutdown() }
        await server.waitUntilStopped()
        logger.info("stopped")
    }
}

enum Health {
    static let ok = HTTPResponse(status: .ok, contentType: "text/plain", body: "ok\n")
}
