/// The layout of a JSON number literal (RFC 8259 §6):
/// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`.
///
/// One grammar for the parser, amounts and number forms, so they can never
/// disagree about what a number is.
struct NumberLiteral {
    let isNegative: Bool
    let integerDigits: String
    /// Digits after the point; `nil` when there is no point.
    let fractionDigits: String?
    /// The exponent with its sign, without the `e`; `nil` when there is none.
    let exponent: String?

    /// Parses a whole literal; `nil` unless `text` is exactly one JSON number.
    init?(_ text: String) {
        let bytes = Array(text.utf8)
        guard case .success(let layout) = Self.scan(bytes, from: 0), layout.end == bytes.count else {
            return nil
        }
        isNegative = layout.isNegative
        integerDigits = String(decoding: bytes[layout.integer], as: UTF8.self)
        fractionDigits = layout.fraction.map { String(decoding: bytes[$0], as: UTF8.self) }
        exponent = layout.exponent.map { String(decoding: bytes[$0], as: UTF8.self) }
    }

    /// True for every spelling of zero: `0`, `-0`, `0.00`, `0e5`.
    var isZero: Bool {
        integerDigits.utf8.allSatisfy { $0 == 0x30 } && (fractionDigits ?? "").utf8.allSatisfy { $0 == 0x30 }
    }

    /// True when there is neither a fraction nor an exponent.
    var isInteger: Bool { fractionDigits == nil && exponent == nil }

    var sign: String { isNegative ? "-" : "" }

    struct Layout {
        var isNegative = false
        var integer: Range<Int> = 0..<0
        var fraction: Range<Int>?
        var exponent: Range<Int>?
        var end = 0
    }

    struct Failure: Error {
        let offset: Int
        let why: String
    }

    /// Scans the longest number starting at `start`; the caller decides what
    /// may follow it.
    static func scan(_ bytes: [UInt8], from start: Int) -> Result<Layout, Failure> {
        var layout = Layout()
        var i = start
        func isDigit(_ at: Int) -> Bool { at < bytes.count && (0x30...0x39).contains(bytes[at]) }
        func digits() -> Range<Int> {
            let first = i
            while isDigit(i) { i += 1 }
            return first..<i
        }

        if i < bytes.count, bytes[i] == UInt8(ascii: "-") {
            layout.isNegative = true
            i += 1
        }
        guard isDigit(i) else { return .failure(Failure(offset: i, why: "a digit must follow the sign")) }
        if bytes[i] == UInt8(ascii: "0") {
            layout.integer = i..<(i + 1)
            i += 1
            if isDigit(i) { return .failure(Failure(offset: i, why: "leading zeros are not allowed")) }
        } else {
            layout.integer = digits()
        }
        if i < bytes.count, bytes[i] == UInt8(ascii: ".") {
            i += 1
            let fraction = digits()
            guard !fraction.isEmpty else {
                return .failure(Failure(offset: i, why: "a digit must follow the decimal point"))
            }
            layout.fraction = fraction
        }
        if i < bytes.count, bytes[i] == UInt8(ascii: "e") || bytes[i] == UInt8(ascii: "E") {
            i += 1
            let signStart = i
            if i < bytes.count, bytes[i] == UInt8(ascii: "+") || bytes[i] == UInt8(ascii: "-") { i += 1 }
            guard !digits().isEmpty else {
                return .failure(Failure(offset: i, why: "a digit must follow the exponent marker"))
            }
            layout.exponent = signStart..<i
        }
        layout.end = i
        return .success(layout)
    }
}
