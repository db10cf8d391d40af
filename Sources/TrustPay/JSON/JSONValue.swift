/// A JSON value that keeps what a TrustPay signature depends on.
///
/// Numbers keep their literal text exactly as transmitted (`20.00` stays
/// `20.00`), because the provider signs the text, not the quantity. Strings are
/// decoded (escapes resolved). Objects keep member order.
///
/// Equality is exact: strings, keys and number literals compare by their UTF-8
/// bytes, so `1.0 != 1` and two canonically-equivalent but differently encoded
/// strings are different values, just as they would sign differently.
// Not `indirect`: arrays and objects keep their elements on the heap anyway,
// and an indirect enum put every value, each string and number too, in a
// box of its own (an allocation and its reference counting per field).
public enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    /// The number literal exactly as transmitted, e.g. `"20.00"` or `"-1e3"`.
    ///
    /// When building a value yourself the text must follow the JSON number
    /// grammar (RFC 8259 §6); prefer ``integer(_:)`` or ``init(_:)`` with an
    /// ``Amount``.
    case number(String)
    /// The decoded string.
    case string(String)
    case array([JSONValue])
    case object(JSONObject)

    public static func == (lhs: JSONValue, rhs: JSONValue) -> Bool {
        switch (lhs, rhs) {
        case (.null, .null): true
        case let (.bool(a), .bool(b)): a == b
        case let (.number(a), .number(b)): a.utf8.elementsEqual(b.utf8)
        case let (.string(a), .string(b)): a.utf8.elementsEqual(b.utf8)
        case let (.array(a), .array(b)): a == b
        case let (.object(a), .object(b)): a == b
        default: false
        }
    }
}

extension JSONValue {
    /// An integer as a JSON number literal.
    public static func integer(_ value: some BinaryInteger) -> JSONValue {
        .number(String(value))
    }

    /// An amount as a JSON number literal in plain decimal text (`17.50`).
    public init(_ amount: Amount) {
        self = .number(amount.description)
    }

    /// The decoded string, if this is a string.
    public var stringValue: String? {
        if case .string(let s) = self { s } else { nil }
    }

    /// The number literal as transmitted, if this is a number.
    public var numberLiteral: String? {
        if case .number(let n) = self { n } else { nil }
    }

    public var boolValue: Bool? {
        if case .bool(let b) = self { b } else { nil }
    }

    public var arrayValue: [JSONValue]? {
        if case .array(let a) = self { a } else { nil }
    }

    public var objectValue: JSONObject? {
        if case .object(let o) = self { o } else { nil }
    }

    public var isNull: Bool {
        if case .null = self { true } else { false }
    }
}

extension JSONValue: ExpressibleByNilLiteral, ExpressibleByBooleanLiteral,
    ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByArrayLiteral,
    ExpressibleByDictionaryLiteral
{
    // No float literal on purpose: it would go through Double.
    public init(nilLiteral: ()) { self = .null }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int64) { self = .number(String(value)) }
    public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
    /// Duplicate keys in a literal are a programmer error and trap, as with `Dictionary`.
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self = .object(JSONObject(literalPairs: elements))
    }
}

extension JSONValue: CustomStringConvertible {
    /// The compact JSON text of the value.
    public var description: String { compactJSON }
}
