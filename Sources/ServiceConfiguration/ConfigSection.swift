import Foundation

/// Typed reading of one mapping in the tree. It remembers which keys were
/// read so `finish()` can reject the rest: a misspelt key is an error, not a
/// silently ignored setting.
final class ConfigSection {
    let path: String
    let line: Int?
    private let members: [(key: String, value: ConfigTree)]
    private var used: Set<String> = []

    init(path: String, tree: ConfigTree) throws(ConfigurationError) {
        self.path = path
        switch tree {
        case .mapping(let members, let line):
            self.members = members
            self.line = line
        case .null(let line):
            self.members = []
            self.line = line
        default:
            throw ConfigurationError(key: path, message: "expected a mapping (key: value lines), got \(tree.kindDescription)",
                                     line: tree.line)
        }
    }

    func keyPath(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    func raw(_ key: String) -> ConfigTree? {
        used.insert(key)
        guard let value = members.first(where: { $0.key == key })?.value else { return nil }
        if case .null = value { return nil }
        return value
    }

    func error(_ key: String, _ message: String) -> ConfigurationError {
        ConfigurationError(key: keyPath(key), message: message,
                           line: members.first(where: { $0.key == key })?.value.line ?? line)
    }

    func string(_ key: String) throws(ConfigurationError) -> String? {
        guard let value = raw(key) else { return nil }
        guard case .scalar(let text, _) = value else {
            throw error(key, "expected a single value, got \(value.kindDescription)")
        }
        return text
    }

    func string(_ key: String, default fallback: String) throws(ConfigurationError) -> String {
        try string(key) ?? fallback
    }

    func int(_ key: String, default fallback: Int, in range: ClosedRange<Int>) throws(ConfigurationError) -> Int {
        guard let text = try string(key) else { return fallback }
        guard let value = Int(text), range.contains(value) else {
            throw error(key, "expected a whole number from \(range.lowerBound) to \(range.upperBound), got '\(text)'")
        }
        return value
    }

    func bool(_ key: String, default fallback: Bool) throws(ConfigurationError) -> Bool {
        guard let text = try string(key) else { return fallback }
        switch text.lowercased() {
        case "true", "yes", "on": return true
        case "false", "no", "off": return false
        default: throw error(key, "expected true or false, got '\(text)'")
        }
    }

    /// `250ms`, `10s`, `5m`, `2h`, `30d`, or a plain number of seconds.
    func duration(_ key: String, default fallback: Duration) throws(ConfigurationError) -> Duration {
        guard let text = try string(key) else { return fallback }
        guard let value = ConfigDuration.parse(text) else {
            throw error(key, "expected a duration such as 500ms, 10s, 5m, 2h or 30d, got '\(text)'")
        }
        return value
    }

    func choice<T>(_ key: String, default fallback: T, _ options: [String: T]) throws(ConfigurationError) -> T {
        guard let text = try string(key) else { return fallback }
        guard let value = options[text] else {
            throw error(key, "expected one of \(options.keys.sorted().joined(separator: ", ")), got '\(text)'")
        }
        return value
    }

    func section(_ key: String) throws(ConfigurationError) -> ConfigSection? {
        guard let value = raw(key) else { return nil }
        return try ConfigSection(path: keyPath(key), tree: value)
    }

    /// A list; a single scalar is accepted as a list of one.
    func list(_ key: String) throws(ConfigurationError) -> [(path: String, tree: ConfigTree)] {
        guard let value = raw(key) else { return [] }
        switch value {
        case .sequence(let items, _):
            return items.enumerated().map { ("\(keyPath(key))[\($0.offset)]", $0.element) }
        case .scalar:
            return [(keyPath(key), value)]
        default:
            throw error(key, "expected a list (lines starting with -), got \(value.kindDescription)")
        }
    }

    func stringList(_ key: String) throws(ConfigurationError) -> [String] {
        var out: [String] = []
        for (path, tree) in try list(key) {
            guard case .scalar(let text, _) = tree else {
                throw ConfigurationError(key: path, message: "expected a single value, got \(tree.kindDescription)",
                                         line: tree.line)
            }
            out.append(text)
        }
        return out
    }

    /// Rejects keys nobody read.
    func finish() throws(ConfigurationError) {
        if let unknown = members.first(where: { !used.contains($0.key) }) {
            let known = used.sorted().joined(separator: ", ")
            throw ConfigurationError(key: keyPath(unknown.key), message: "unknown key (known here: \(known))",
                                     line: unknown.value.line)
        }
    }
}

extension ConfigTree {
    /// What this node is, for "expected …, got …" messages; never the
    /// value itself, which may be a secret in the wrong place.
    var kindDescription: String {
        switch self {
        case .scalar: "a single value"
        case .mapping: "a mapping"
        case .sequence: "a list"
        case .null: "nothing"
        }
    }
}

enum ConfigDuration {
    static func parse(_ text: String) -> Duration? {
        let units: [(String, Double)] = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600), ("d", 86400)]
        for (suffix, scale) in units where text.hasSuffix(suffix) {
            let number = text.dropLast(suffix.count).trimmingCharacters(in: .whitespaces)
            if suffix == "s" && number.hasSuffix("m") { continue }
            guard let value = Double(number) else { return nil }
            return milliseconds(value * scale * 1000)
        }
        return Double(text).flatMap { milliseconds($0 * 1000) }
    }

    /// Up to about 300 years: past Int64's range the conversion would trap,
    /// and no setting needs more.
    private static func milliseconds(_ value: Double) -> Duration? {
        guard value >= 0, value <= 1e13 else { return nil }
        return .milliseconds(Int64(value.rounded()))
    }
}
