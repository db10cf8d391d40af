/// Why a callback body could not be read as the expected callback. Messages
/// name fields, never their values, so they are safe to log and never echo a
/// secret or personal data.
///
/// Each case is one rule of ``SignedContent``; ``code`` names it for
/// machines (the `error` of an HTTP answer).
public enum CallbackDecodingError: Error, Sendable, Equatable, CustomStringConvertible {
    case invalidJSON(JSONParseError)
    case notAnObject
    /// A field name with anything but ASCII letters, digits and `_`: it could
    /// carry the canonical string's own `=` and `&`.
    case invalidFieldName(String)
    /// A value whose signed text holds `&name=`: it could stand for fields of its own.
    case splicedValue(field: String)
    /// A required field is absent or empty (`null`, `""`, `0`, `false`, `[]`, `{}`).
    case missingField(String)
    case wrongType(field: String, expected: String)
    /// Both spellings of a field (`order_no` and `orderNo`) are present with
    /// different values: which one the provider meant is ambiguous.
    case conflictingSpellings(String, String)
    /// A body on the card route that has the shape of a payment callback.
    case notACardCallback(reason: String)

    /// A short machine-readable name of the rule that was broken.
    public var code: String {
        switch self {
        case .invalidJSON, .notAnObject: "invalid_json"
        case .invalidFieldName: "invalid_field_name"
        case .splicedValue: "spliced_value"
        case .missingField: "missing_field"
        case .wrongType: "invalid_field"
        case .conflictingSpellings: "conflicting_fields"
        case .notACardCallback: "not_a_card_callback"
        }
    }

    public var description: String {
        switch self {
        case .invalidJSON(let error):
            "the callback body is not valid JSON (line \(error.line), column \(error.column): \(error.reason))"
        case .notAnObject:
            "the callback body is JSON but not an object"
        case .invalidFieldName(let name):
            "the field name \(logQuoted(name, limit: 40)) has characters other than ASCII letters, digits and \"_\""
        case .splicedValue(let field):
            "the value of \"\(field)\" contains \"&name=\", which would read as another field in the signed text"
        case .missingField(let name):
            "the required field \"\(name)\" is missing or empty"
        case .wrongType(let field, let expected):
            "the field \"\(field)\" should be \(expected)"
        case .conflictingSpellings(let first, let second):
            "the fields \"\(first)\" and \"\(second)\" are both present with different values"
        case .notACardCallback(let reason):
            "the body is not a card callback: \(reason)"
        }
    }
}
