/// Reads typed fields out of a callback object, one name or several spellings
/// at a time, and remembers which names it knows so the rest can be kept as
/// `extra`.
///
/// A value that the signature treats as absent because it is `null` or `""`
/// is absent here too. Zero and `false` are real values.
struct CallbackFields {
    let object: JSONObject
    private var known: Set<String> = [TrustPaySignature.signKey]

    init(_ object: JSONObject) { self.object = object }

    static func parse(_ body: [UInt8]) throws(CallbackDecodingError) -> JSONObject {
        let value: JSONValue
        do {
            value = try JSONValue(parsing: body)
        } catch {
            throw .invalidJSON(error)
        }
        guard case .object(let object) = value else { throw .notAnObject }
        return object
    }

    /// The value under the first present spelling; the other spellings, if
    /// present, must decode to an equal value.
    mutating func optional<T: Equatable>(
        _ names: [String], as decode: (String, JSONValue) throws(CallbackDecodingError) -> T
    ) throws(CallbackDecodingError) -> T? {
        var found: (name: String, value: T)?
        for name in names {
            known.insert(name)
            guard let raw = object[name], raw != .null, raw != .string("") else { continue }
            let value = try decode(name, raw)
            if let found {
                guard found.value == value else { throw .conflictingSpellings(found.name, name) }
            } else {
                found = (name, value)
            }
        }
        return found?.value
    }

    mutating func required<T: Equatable>(
        _ names: [String], as decode: (String, JSONValue) throws(CallbackDecodingError) -> T
    ) throws(CallbackDecodingError) -> T {
        guard let value = try optional(names, as: decode) else { throw .missingField(names[0]) }
        return value
    }

    /// The members under names no decoder asked for, in order.
    var extra: JSONObject {
        var extra = JSONObject()
        for member in object where !known.contains(member.key) {
            extra.appendIfAbsent(member.key, member.value)
        }
        return extra
    }
}

// MARK: decoders

extension CallbackFields {
    static func string(_ name: String, _ value: JSONValue) throws(CallbackDecodingError) -> String {
        guard case .string(let text) = value else { throw .wrongType(field: name, expected: "a string") }
        return text
    }

    /// An identifier is text; a number is taken as its literal text, since
    /// some gateways send numeric ids unquoted.
    static func identifier(_ name: String, _ value: JSONValue) throws(CallbackDecodingError) -> String {
        switch value {
        case .string(let text), .number(let text): return text
        default: throw .wrongType(field: name, expected: "a string")
        }
    }

    static func int(_ name: String, _ value: JSONValue) throws(CallbackDecodingError) -> Int {
        guard let text = integerText(value), let number = Int(text) else {
            throw .wrongType(field: name, expected: "an integer")
        }
        return number
    }

    static func int64(_ name: String, _ value: JSONValue) throws(CallbackDecodingError) -> Int64 {
        guard let text = integerText(value), let number = Int64(text) else {
            throw .wrongType(field: name, expected: "a 64-bit integer")
        }
        return number
    }

    /// A JSON number or a string holding one: the signature authenticates the
    /// text either way, and quoted numbers are common from Java and PHP gateways.
    static func amount(_ name: String, _ value: JSONValue) throws(CallbackDecodingError) -> Amount {
        switch value {
        case .number(let text), .string(let text):
            if let amount = Amount(text) { return amount }
        default: break
        }
        throw .wrongType(field: name, expected: "a decimal amount")
    }

    /// An array of strings, or a single string (older single-refund callbacks).
    static func stringList(_ name: String, _ value: JSONValue) throws(CallbackDecodingError) -> [String] {
        switch value {
        case .string(let text): return [text]
        case .array(let elements):
            var list: [String] = []
            for element in elements {
                guard case .string(let text) = element else {
                    throw .wrongType(field: name, expected: "a string or an array of strings")
                }
                list.append(text)
            }
            return list
        default: throw .wrongType(field: name, expected: "a string or an array of strings")
        }
    }

    /// Integer literal text from a number or a numeric string; no fraction or exponent.
    private static func integerText(_ value: JSONValue) -> String? {
        switch value {
        case .number(let text), .string(let text): NumberLiteral(text)?.isInteger == true ? text : nil
        default: nil
        }
    }
}

/// A string quoted and escaped for a log line: control characters cannot
/// forge a new line, and long text is cut.
func logQuoted(_ text: String, limit: Int = 120) -> String {
    let cut = text.count > limit ? String(text.prefix(limit)) + "…" : text
    return JSONValue.string(cut).compactJSON
}
