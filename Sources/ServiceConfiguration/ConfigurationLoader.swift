import NetworkAddresses
import Foundation

extension ServiceSettings {
    /// Reads `yaml`, applies `TRUSTPAY_WEBHOOKS__SECTION__KEY=value`
    /// overrides from `environment`, and validates everything; the first
    /// problem is thrown naming its key, and its line or variable.
    ///
    /// Relative paths resolve from `baseDirectory` when given (the folder of
    /// the configuration file), else from the working directory.
    package static func load(yaml: String, source: String = "configuration", baseDirectory: String? = nil,
                            environment: [String: String] = ProcessInfo.processInfo.environment)
        throws(ConfigurationError) -> ServiceSettings
    {
        var tree = try ConfigTree.parse(yaml: yaml, source: source)
        var sources = ConfigurationSources()
        tree.lines(into: &sources.lines)
        // In name order, item numbers counted as numbers: …__2__ before
        // …__10__, so items can be added one after another.
        func order(_ name: String) -> String {
            name.components(separatedBy: "__")
                .map { part in
                    let digits = !part.isEmpty && part.allSatisfy { ("0"..."9").contains($0) }
                    return digits ? String(repeating: "0", count: max(0, 12 - part.count)) + part : part
                }
                .joined(separator: "__")
        }
        for (name, value) in environment.sorted(by: { order($0.key) < order($1.key) })
        where name.hasPrefix(environmentPrefix) {
            let path = name.dropFirst(environmentPrefix.count).components(separatedBy: "__").map { $0.lowercased() }
            guard !path.contains(where: \.isEmpty) else {
                throw ConfigurationError(key: name, message: "malformed override name")
            }
            do {
                let key = try tree.set(path[...], to: value)
                sources.environment[key] = name
                sources.lines[key] = nil
            } catch {
                throw ConfigurationError(key: error.key, message: error.message, line: error.line, environmentVariable: name)
            }
        }
        var config: ServiceSettings
        do {
            config = try ConfigurationReader.read(tree)
        } catch {
            throw sources.annotate(error)
        }
        config.sources = sources
        try config.checkListeners()
        if let baseDirectory { config.resolvePaths(from: baseDirectory) }
        return config
    }

    /// Both listeners on one port: the second would fail to bind at start.
    /// Checked once the sources are known, so both keys' are named.
    func checkListeners() throws(ConfigurationError) {
        guard let admin, admin.port != 0, admin.port == server.port else { return }
        let serverSource = sources.environment["server.port"].map { ", set by \($0)" }
            ?? sources.lines["server.port"].map { ", line \($0)" } ?? " by default"
        throw error("admin.port", "is also server.port (\(admin.port)\(serverSource)): the callbacks listener and "
            + "the admin listener need different ports")
    }

    /// Loads a file; a missing or unreadable file is a configuration error.
    /// Relative paths in it resolve from its folder.
    package static func load(path: String,
                            environment: [String: String] = ProcessInfo.processInfo.environment)
        throws(ConfigurationError) -> ServiceSettings
    {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigurationError(key: "", message: "cannot read configuration file \(path)")
        }
        let folder = URL(fileURLWithPath: path).standardizedFileURL.deletingLastPathComponent().path
        var config = try load(yaml: String(decoding: data, as: UTF8.self), source: path, baseDirectory: folder,
                              environment: environment)
        config.sources.file = path
        return config
    }

    /// Environment variables starting with this override file values:
    /// `TRUSTPAY_WEBHOOKS__SERVER__PORT=9090` sets `server.port`,
    /// `TRUSTPAY_WEBHOOKS__MERCHANTS__0__ID=…` the first merchant's id.
    package static let environmentPrefix = "TRUSTPAY_WEBHOOKS__"

    /// A problem with the value at `key`, naming its line or the environment
    /// variable it came from: for checks made after reading (a TLS file that
    /// does not load, a URL that does not parse).
    package func error(_ key: String, _ message: String) -> ConfigurationError {
        sources.annotate(ConfigurationError(key: key, message: message))
    }

    /// Relative paths from the file resolve from `folder`; those set by an
    /// environment variable stay relative to the working directory, like
    /// paths given on the command line.
    mutating func resolvePaths(from folder: String) {
        let sources = sources
        func resolve(_ path: String, _ key: String) -> String {
            guard !path.hasPrefix("/"), sources.environment[key] == nil else { return path }
            return URL(fileURLWithPath: path, relativeTo: URL(fileURLWithPath: folder, isDirectory: true))
                .standardizedFileURL.path
        }
        func resolveSecret(_ secret: SecretSource, _ key: String) -> SecretSource {
            guard case .file(let path) = secret else { return secret }
            return .file(resolve(path, key + ".file"))
        }
        store.sqlitePath = resolve(store.sqlitePath, "store.sqlite.path")
        store.postgresURL = store.postgresURL.map { resolveSecret($0, "store.postgres.url") }
        if let token = admin?.token { admin?.token = resolveSecret(token, "admin.token") }
        server.tlsCertificate = server.tlsCertificate.map { resolve($0, "server.tls.certificate") }
        server.tlsKey = server.tlsKey.map { resolve($0, "server.tls.key") }
        for index in merchants.indices {
            merchants[index].secrets = merchants[index].secrets.enumerated().map {
                resolveSecret($0.element, "merchants[\(index)].secrets[\($0.offset)]")
            }
        }
        for index in handlers.indices {
            switch handlers[index].kind {
            case .jsonl(let path):
                handlers[index].kind = .jsonl(path: resolve(path, "handlers[\(index)].path"))
            case .forward(let url, let secret, let timeout):
                handlers[index].kind = .forward(url: url, secret: resolveSecret(secret, "handlers[\(index)].secret"),
                                                timeout: timeout)
            case .log, .exec:
                break
            }
        }
    }
}

/// Where a loaded configuration's values came from.
package struct ConfigurationSources: Sendable, Equatable {
    /// The configuration file; nil for the embedded defaults.
    package var file: String?
    /// Key path → the environment variable that set it.
    package var environment: [String: String] = [:]
    /// Key path → its line in the file.
    var lines: [String: Int] = [:]

    /// `error` with the line or variable of its key (or of the nearest
    /// key it contains that a variable set) filled in.
    func annotate(_ error: ConfigurationError) -> ConfigurationError {
        var error = error
        guard error.environmentVariable == nil else { return error }
        if let name = environment[error.key] {
            error.environmentVariable = name
            error.line = nil
            return error
        }
        if error.line == nil { error.line = lines[error.key] }
        if !error.key.isEmpty {
            error.environmentVariable = environment
                .filter { $0.key.hasPrefix(error.key + ".") || $0.key.hasPrefix(error.key + "[") }
                .min { $0.key < $1.key }?.value
        }
        return error
    }
}
