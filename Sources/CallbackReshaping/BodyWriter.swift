import TrustPay

/// Writes reshaped members as JSON text, with the liberties JSON allows and
/// the signature does not see: `\u` escapes, whitespace, raw number text.
enum BodyWriter {
    static func write(_ members: [Reshaper.Member], pretty: Bool) -> [UInt8] {
        var out = pretty ? "{\n  " : "{"
        for (index, member) in members.enumerated() {
            if index > 0 { out += pretty ? ",\n  " : "," }
            out += member.escapeKey ? escaped(member.key) : JSONValue.string(member.key).compactJSON
            out += pretty ? " : " : ":"
            if let raw = member.rawValue {
                out += raw
            } else if member.escapeValue, case .string(let text) = member.value {
                out += escaped(text)
            } else {
                out += member.value.compactJSON
            }
        }
        out += pretty ? "\n}\n" : "}"
        return Array(out.utf8)
    }

    /// A JSON string with every ASCII letter, digit, `&`, `=` and `_` written as `\u00XX`.
    private static func escaped(_ text: String) -> String {
        var out = ""
        for scalar in JSONValue.string(text).compactJSON.unicodeScalars {
            if scalar.isASCII, scalar != "\"", scalar != "\\",
                scalar.properties.isAlphabetic || ("0"..."9").contains(scalar) || "&=_".unicodeScalars.contains(scalar)
            {
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }
}
