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
    /// environment overrides enter the tree. A number addresses a list item:
    /// `["merchants", "0", "id"]` is `merchants[0].id`; the number one past
    /// the last item adds an item. Returns the key as errors name it.
    mutating func set(_ path: ArraySlice<String>, to value: String, keyPath: String = "")
        throws(ConfigurationError) -> String
    {
        guard let first = path.first else {
            self = .scalar(value, line: nil)
            return keyPath
        }
        let rest = path.dropFirst()
        if let index = Int(first), String(index) == first {
            var items: [ConfigTree]
            var line: Int?
            switch self {
            case .sequence(let existing, let l): (items, line) = (existing, l)
            case .null(let l): (items, line) = ([], l)
            case .mapping(let members, let l) where members.isEmpty: (items, line) = ([], l)
            default:
                throw ConfigurationError(key: keyPath, message: "is not a list, so it has no item \(index)", line: self.line)
            }
            guard index <= items.count else {
                throw ConfigurationError(
                    key: keyPath,
                    message: "has \(items.count) item\(items.count == 1 ? "" : "s"): an override can set items 0 to "
                        + "\(max(0, items.count - 1)), or add item \(items.count)")
            }
            if index == items.count { items.append(.mapping([], line: nil)) }
            let childPath = "\(keyPath)[\(index)]"
            let result = try items[index].set(rest, to: value, keyPath: childPath)
            self = .sequence(items, line: line)
            return result
        }
        var members: [(key: String, value: ConfigTree)] = []
        var line: Int?
        switch self {
        case .mapping(let existing, let l): (members, line) = (existing, l)
        case .sequence:
            throw ConfigurationError(key: keyPath, message: "is a list: address its items by number (…__0__…)",
                                     line: self.line)
        default: break
        }
        let childPath = keyPath.isEmpty ? first : "\(keyPath).\(first)"
        let result: String
        if let index = members.firstIndex(where: { $0.key == first }) {
            result = try members[index].value.set(rest, to: value, keyPath: childPath)
        } else {
            var child = ConfigTree.mapping([], line: nil)
            result = try child.set(rest, to: value, keyPath: childPath)
            members.append((first, child))
        }
        self = .mapping(members, line: line)
        return result
    }

    /// The line of every node read from the file, by key path.
    func lines(keyPath: String = "", into table: inout [String: Int]) {
        if let line { table[keyPath] = line }
        switch self {
        case .mapping(let members, _):
            for (key, value) in members { value.lines(keyPath: keyPath.isEmpty ? key : "\(keyPath).\(key)", into: &table) }
        case .sequence(let items, _):
            for (index, item) in items.enumerated() { item.lines(keyPath: "\(keyPath)[\(index)]", into: &table) }
        case .scalar, .null: break
        }
    }
}
