import TrustPay

/// A body for people to read: two-space indentation, members in their
/// received order and numbers as their literal text (`20.00` stays `20.00`),
/// which a browser's `JSON.parse` would not keep.
enum IndentedJSON {
    static func text(_ value: JSONValue, indent: String = "") -> String {
        let inner = indent + "  "
        switch value {
        case .array(let elements) where !elements.isEmpty:
            return "[\n" + elements.map { inner + text($0, indent: inner) }.joined(separator: ",\n") + "\n\(indent)]"
        case .object(let object) where !object.isEmpty:
            let members = object.map { inner + JSONValue.string($0.key).compactJSON + ": " + text($0.value, indent: inner) }
            return "{\n" + members.joined(separator: ",\n") + "\n\(indent)}"
        default:
            return value.compactJSON
        }
    }
}
