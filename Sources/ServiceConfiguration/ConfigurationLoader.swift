import AccessControl
import Foundation

extension ServiceConfiguration {
    /// Reads `yaml`, applies `TRUSTPAY_WEBHOOKS__SECTION__KEY=value`
    /// overrides from `environment`, and validates everything; the first
    /// problem is thrown naming its key.
    public static func load(yaml: String, source: String = "configuration",
                            environment: [String: String] = ProcessInfo.processInfo.environment)
        throws(ConfigurationError) -> ServiceConfiguration
    {
        var tree = try ConfigTree.parse(yaml: yaml, source: source)
        for (name, value) in environment.sorted(by: { $0.key < $1.key })
        where name.hasPrefix(environmentPrefix) {
            let path = name.dropFirst(environmentPrefix.count).components(separatedBy: "__").map { $0.lowercased() }
            guard !path.contains(where: \.isEmpty) else {
                throw ConfigurationError(key: name, message: "malformed override name")
            }
            tree.set(path, to: value)
        }
        return try ConfigurationReader.read(tree)
    }

    /// Loads a file; a missing or unreadable file is a configuration error.
    public static func load(path: String,
                            environment: [String: String] = ProcessInfo.processInfo.environment)
        throws(ConfigurationError) -> ServiceConfiguration
    {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigurationError(key: "", message: "cannot read configuration file \(path)")
        }
        return try load(yaml: String(decoding: data, as: UTF8.self), source: path, environment: environment)
    }

    /// Environment variables starting with this override file values:
    /// `TRUSTPAY_WEBHOOKS__SERVER__PORT=9090` sets `server.port`.
    public static let environmentPrefix = "TRUSTPAY_WEBHOOKS__"
}
