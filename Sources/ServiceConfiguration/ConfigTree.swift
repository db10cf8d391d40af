import Yams

/// A configuration document as a plain tree: every scalar stays text until a
/// typed reader asks for it, so errors can name the key and the line.
indirect enum ConfigTree: Sendable, Equatable {
    case scalar(String, line: Int?)
    case mapping([(key: String, value: ConfigTree)], line: Int?)
    case sequence([ConfigTree], line: Int?)
    case null(line: Int?)

    static func == (lhs: ConfigTree, rhs: ConfigTree) -> Bool {
        switch (lhs, rhs) {
        case let (.scalar(a, _), .scalar(b, _)): a == b
        case let (.mapping(a, _), .mapping(b, _)):
            a.count == b.count && zip(a, b).allSatisfy { $0.key == $1.key && $0.value == $1.value }
        case let (.sequence(a, _), .sequence(b, _)): a == b
        case (.null, .null): true
        default: false
        }
    }

    var line: Int? {
        switch self {
        case .scalar(_, let line), .mapping(_, let line), .sequence(_, let line), .null(let line): line
        }
    }

    /// Parses YAML text; `source` names the file in errors.
    static func parse(yaml: String, source: String) throws(ConfigurationError) -> ConfigTree {
        let node: Node?
        do {
            node = try Yams.compose(yaml: yaml)
        } catch {
            throw ConfigurationError(key: "", message: "\(source) is not valid YAML: \(error)")
        }
        guard let node else { return .mapping([], line: nil) }
        return try convert(node, path: "")
    }

    private static func convert(_ node: Node, path: String) throws(ConfigurationError) -> ConfigTree {
        let line = node.mark.map { $0.line }
        switch node {
        case .scalar(let scalar):
            if scalar.style == .plain && ["", "~", "null", "Null", "NULL"].contains(scalar.string) {
                return .null(line: line)
            }
            return .scalar(scalar.string, line: line)
        case .mapping(let mapping):
            var members: [(key: String, value: ConfigTree)] = []
            for (keyNode, valueNode) in mapping {
                guard let key = keyNode.string else {
                    throw ConfigurationError(key: path, message: "mapping keys must be strings", line: line)
                }
                let childPath = path.isEmpty ? key : "\(path).\(key)"
                if members.contains(where: { $0.key == key }) {
                    throw ConfigurationError(key: childPath, message: "appears twice", line: keyNode.mark?.line)
                }
                members.append((key, try convert(valueNode, path: childPath)))
            }
            return .mapping(members, line: line)
        case .sequence(let sequence):
            var items: [ConfigTree] = []
            for (index, item) in sequence.enumerated() {
                items.append(try convert(item, path: "\(path)[\(index)]"))
            }
            return .sequence(items, line: line)
        case .alias:
            throw ConfigurationError(key: path, message: "YAML aliases are not supported", line: line)
        }
    }

    /// Sets the scalar at `path` (creating mappings on the way): how
    /// environment overrides enter the tree.
    mutating func set(_ path: [String], to value: String) {
        guard let first = path.first else {
            self = .scalar(value, line: nil)
            return
        }
        var members: [(key: String, value: ConfigTree)] = []
        var line: Int?
        if case .mapping(let existing, let l) = self {
            members = existing
            line = l
        }
        if let index = members.firstIndex(where: { $0.key == first }) {
            members[index].value.set(Array(path.dropFirst()), to: value)
        } else {
            var child = ConfigTree.mapping([], line: nil)
            child.set(Array(path.dropFirst()), to: value)
            members.append((first, child))
        }
        self = .mapping(members, line: line)
    }
}
