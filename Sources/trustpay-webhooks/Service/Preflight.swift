import BuiltinHandlers
import Foundation
import HTTPServer
import PostgresInbox
import ServiceConfiguration

/// Everything in the configuration that `serve` would otherwise only trip
/// over while starting: files that do not load, a database URL that does
/// not parse, a forward secret of the wrong form, folders that cannot be
/// written. `ServiceAssembly` runs it, and `serve` and `check-config` both
/// build one, so `check-config` passes exactly what `serve` accepts (short
/// of a port that is taken or a database that does not answer).
enum Preflight {
    static func check(_ config: ServiceSettings, environment: [String: String]) throws(ConfigurationError) {
        let server = config.server
        if let certificate = server.tlsCertificate, let key = server.tlsKey {
            try checkTLS(certificate: certificate, key: key, config: config)
        }
        switch config.store.kind {
        case .sqlite:
            try checkWritable(file: config.store.sqlitePath, key: "store.sqlite.path", config: config)
        case .postgres:
            guard let source = config.store.postgresURL else {
                throw config.error("store.postgres.url", "required when store.kind is postgres")
            }
            let url = try source.resolve(key: "store.postgres.url", environment: environment).secret
            do {
                _ = try DatabaseURL(url)
            } catch {
                // The description never repeats the URL: it holds the password.
                throw config.error("store.postgres.url", "\(error)")
            }
        case .memory:
            break
        }
        for (index, handler) in config.handlers.enumerated() {
            switch handler.kind {
            case .jsonl(let path):
                try checkWritable(file: path, key: "handlers[\(index)].path", config: config)
            case .forward(_, let secret, _):
                let key = "handlers[\(index)].secret"
                let resolved = try secret.resolve(key: key, environment: environment).secret
                do {
                    _ = try StandardWebhooksSigner(secret: resolved)
                } catch {
                    throw config.error(key, "expected whsec_ followed by base64 (a Standard Webhooks secret)")
                }
            case .log, .exec:
                break
            }
        }
    }

    /// Loads the pair as the listener will (the server's own loader), without binding.
    private static func checkTLS(certificate: String, key: String, config: ServiceSettings)
        throws(ConfigurationError)
    {
        for (path, name) in [(certificate, "server.tls.certificate"), (key, "server.tls.key")]
        where !FileManager.default.isReadableFile(atPath: path) {
            let exists = FileManager.default.fileExists(atPath: path)
            throw config.error(name, exists ? "cannot read \(path)" : "no file at \(path)")
        }
        do throws(TLSError) {
            try TLSConfiguration(certificateChainPath: certificate, privateKeyPath: key).validate()
        } catch {
            switch error {
            case .certificate(_, let reason):
                throw config.error("server.tls.certificate", "\(certificate) is not a PEM certificate chain: \(reason)")
            case .privateKey(_, let reason):
                throw config.error("server.tls.key", "\(key): \(reason)")
            case .setup(let reason):
                throw config.error("server.tls", "OpenSSL could not set up TLS: \(reason)")
            }
        }
    }

    /// The file is writable, or can be created: its nearest existing folder
    /// is a folder we may write in. Nothing is created here.
    private static func checkWritable(file path: String, key: String, config: ServiceSettings)
        throws(ConfigurationError)
    {
        let manager = FileManager.default
        var isDirectory: ObjCBool = false
        if manager.fileExists(atPath: path, isDirectory: &isDirectory) {
            if isDirectory.boolValue { throw config.error(key, "\(path) is a folder, not a file") }
            if !manager.isWritableFile(atPath: path) { throw config.error(key, "\(path) is not writable") }
            return
        }
        var folder = URL(fileURLWithPath: path).deletingLastPathComponent()
        while !manager.fileExists(atPath: folder.path, isDirectory: &isDirectory) && folder.path != "/" {
            folder.deleteLastPathComponent()
        }
        guard isDirectory.boolValue else {
            throw config.error(key, "cannot create \(path): \(folder.path) is a file, not a folder")
        }
        guard manager.isWritableFile(atPath: folder.path) else {
            throw config.error(key, "cannot create \(path): \(folder.path) is not writable")
        }
    }
}
