import Foundation

/// Where a secret comes from. Its description never shows the secret.
package enum SecretSource: Sendable, Equatable, CustomStringConvertible {
    case value(String)
    /// A variable; `developmentFallback` is used when it is unset, and the
    /// server says so loudly at start.
    case environment(String, developmentFallback: String? = nil)
    case file(String)

    package var description: String {
        switch self {
        case .value: "<inline secret>"
        case .environment(let name, _): "$\(name)"
        case .file(let path): "file \(path)"
        }
    }

    /// The secret itself; a missing variable or unreadable file is an error
    /// naming the key, never the value.
    package func resolve(key: String, environment: [String: String]) throws(ConfigurationError) -> ResolvedSecret {
        let secret: String
        var fallback = false
        switch self {
        case .value(let text):
            secret = text
        case .environment(let name, let developmentFallback):
            if let text = environment[name], !text.isEmpty {
                secret = text
            } else if let developmentFallback {
                secret = developmentFallback
                fallback = true
            } else {
                throw ConfigurationError(key: key, message: "environment variable \(name) is not set")
            }
        case .file(let path):
            guard let data = FileManager.default.contents(atPath: path) else {
                throw ConfigurationError(key: key, message: "cannot read secret file \(path)")
            }
            secret = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        }
        guard !secret.isEmpty else { throw ConfigurationError(key: key, message: "the secret is empty") }
        return ResolvedSecret(secret: secret, isDevelopmentFallback: fallback)
    }

    /// `{value: …}`, `{env: NAME}`, `{file: PATH}`, or a bare string (a literal).
    static func read(_ tree: ConfigTree, path: String) throws(ConfigurationError) -> SecretSource {
        if case .scalar(let text, _) = tree { return .value(text) }
        let section = try ConfigSection(path: path, tree: tree)
        let value = try section.string("value")
        let env = try section.string("env")
        let fallback = try section.string("development_fallback")
        let file = try section.string("file")
        try section.finish()
        if fallback != nil && env == nil {
            throw ConfigurationError(key: path + ".development_fallback", message: "only goes with env", line: tree.line)
        }
        switch (value, env, file) {
        case (let v?, nil, nil): return .value(v)
        case (nil, let e?, nil): return .environment(e, developmentFallback: fallback)
        case (nil, nil, let f?): return .file(f)
        default:
            throw ConfigurationError(key: path, message: "give exactly one of value, env or file", line: tree.line)
        }
    }
}

/// A secret read from its source. Printing it shows nothing of the secret.
package struct ResolvedSecret: Sendable, Equatable, CustomStringConvertible {
    package let secret: String
    package let isDevelopmentFallback: Bool

    package var description: String { isDevelopmentFallback ? "<development secret>" : "<secret>" }
}
