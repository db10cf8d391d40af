/// Why a callback body could not be read as the expected callback. Messages
/// name fields, never their values, so they are safe to log and never echo a
/// secret or personal data.
public enum CallbackDecodingError: Error, Sendable, Equatable, CustomStringConvertible {
    case invalidJSON(JSONParseError)
    case notAnObject
    /// A required field is absent, `null` or an empty string.
    case missingField(String)
    case wrongType(field: String, expected: String)
    /// Both spellings of a field (`order_no` and `orderNo`) are present with
    /// different values: which one the provider meant is ambiguous.
    case conflictingSpellings(String, String)

    public var description: String {
        switch self {
        case .invalidJSON(let error):
            "the callback body is not valid JSON (line \(error.line), column \(error.column): \(error.reason))"
        case .notAnObject:
            "the callback body is JSON but not an object"
        case .missingField(let name):
            "the required field \"\(name)\" is missing or empty"
        case .wrongType(let field, let expected):
            "the field \"\(field)\" should be \(expected)"
        case .conflictingSpellings(let first, let second):
            "the fields \"\(first)\" and \"\(second)\" are both present with different values"
        }
    }
}
