/// Why a body is not acceptable JSON, and where.
public struct JSONParseError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Reason: Sendable, Equatable {
        case unexpectedEndOfInput(expected: String)
        case unexpectedByte(UInt8, expected: String)
        case invalidUTF8
        case controlCharacterInString(UInt8)
        case invalidEscape
        /// A `\uD800`–`\uDFFF` escape that is not half of a valid pair.
        case unpairedSurrogate
        case invalidNumber(String)
        /// The same key twice in one object: which value was signed is ambiguous.
        case duplicateKey(String)
        case nestingTooDeep(limit: Int)
        case trailingCharacters
    }

    public let reason: Reason
    /// Zero-based offset of the offending byte.
    public let byteOffset: Int
    /// One-based line of the offending byte.
    public let line: Int
    /// One-based column of the offending byte, counted in bytes.
    public let column: Int

    public init(reason: Reason, byteOffset: Int, line: Int, column: Int) {
        self.reason = reason
        self.byteOffset = byteOffset
        self.line = line
        self.column = column
    }

    init(_ reason: Reason, at offset: Int, in bytes: [UInt8]) {
        var line = 1
        var lineStart = 0
        for index in 0..<min(offset, bytes.count) where bytes[index] == 0x0A {
            line += 1
            lineStart = index + 1
        }
        self.init(reason: reason, byteOffset: offset, line: line, column: offset - lineStart + 1)
    }

    public var description: String {
        "invalid JSON at line \(line), column \(column): \(reason)"
    }
}

extension JSONParseError.Reason: CustomStringConvertible {
    public var description: String {
        switch self {
        case .unexpectedEndOfInput(let expected):
            "the body ends too early, expected \(expected)"
        case .unexpectedByte(let byte, let expected):
            "found \(Self.show(byte)) where \(expected) was expected"
        case .invalidUTF8:
            "the text is not valid UTF-8"
        case .controlCharacterInString(let byte):
            "control character \(Self.show(byte)) must be escaped inside a string"
        case .invalidEscape:
            "invalid escape sequence in a string"
        case .unpairedSurrogate:
            "a \\u escape encodes half of a UTF-16 surrogate pair"
        case .invalidNumber(let why):
            "invalid number: \(why)"
        case .duplicateKey(let key):
            "the key \"\(key)\" appears twice in the same object"
        case .nestingTooDeep(let limit):
            "arrays and objects are nested more than \(limit) levels deep"
        case .trailingCharacters:
            "unexpected characters after the JSON value"
        }
    }

    private static func show(_ byte: UInt8) -> String {
        let hex = "0x" + (byte < 0x10 ? "0" : "") + String(byte, radix: 16, uppercase: true)
        return (0x21...0x7E).contains(byte) ? "'\(Character(Unicode.Scalar(byte)))' (\(hex))" : hex
    }
}
