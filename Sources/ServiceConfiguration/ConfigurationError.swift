/// A configuration problem, naming the key (dotted path) and, when known,
/// the line of the file it is on or the environment variable that set it.
package struct ConfigurationError: Error, Sendable, Equatable, CustomStringConvertible {
    package var key: String
    package var message: String
    package var line: Int?
    /// `TRUSTPAY_WEBHOOKS__…` when the value came from the environment.
    package var environmentVariable: String?

    package init(key: String, message: String, line: Int? = nil, environmentVariable: String? = nil) {
        self.key = key
        self.message = message
        self.line = line
        self.environmentVariable = environmentVariable
    }

    package var description: String {
        // A variable can set a key outright, or change a value inside a
        // mapping that is in the file: then both are named.
        let place = switch (line, environmentVariable) {
        case let (line?, name?): " (line \(line), changed by \(name))"
        case let (nil, name?): " (set by \(name))"
        case let (line?, nil): " (line \(line))"
        case (nil, nil): ""
        }
        return key.isEmpty ? "configuration: \(message)\(place)" : "configuration key '\(key)'\(place): \(message)"
    }
}
