/// A configuration problem, naming the key (dotted path) and, when known,
/// the line of the file it is on.
public struct ConfigurationError: Error, Sendable, Equatable, CustomStringConvertible {
    public var key: String
    public var message: String
    public var line: Int?

    public init(key: String, message: String, line: Int? = nil) {
        self.key = key
        self.message = message
        self.line = line
    }

    public var description: String {
        let place = line.map { " (line \($0))" } ?? ""
        return key.isEmpty ? "configuration: \(message)\(place)" : "configuration key '\(key)'\(place): \(message)"
    }
}
