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
        let parts = Self.withLayout(of: text) { bytes, layout in
            (
                layout.isNegative,
                String(decoding: bytes[layout.integer], as: UTF8.self),
                layout.fraction.map { String(decoding: bytes[$0], as: UTF8.self) },
                layout.exponent.map { String(decoding: bytes[$0], as: UTF8.self) }
            )
        }
        guard let parts else { return nil }
        (isNegative, integerDigits, fractionDigits, exponent) = parts
    }

    /// True for every spelling of zero: `0`, `-0`, `0.00`, `0e5`.
    var isZero: Bool {
        integerDigits.utf8.allSatisfy { $0 == 0x30 } && (fractionDigits ?? "").utf8.allSatisfy { $0 == 0x30 }
    }

    /// True when there is neither a fraction nor an exponent.
    var isInteger: Bool { fractionDigits == nil && exponent == nil }

    var sign: String { isNegative ? "-" : "" }

    // MARK: in place
    // The checks a callback makes of every number (is it zero, is it an
    // integer) read the literal where it lies, without building the parts.

    /// Whether `text` is a JSON number of value zero (`NumberLiteral(text)?.isZero`).
    static func isZero(_ text: String) -> Bool {
        // A literal whose first digit is not `0` is never zero (valid or not):
        // most numbers are answered without scanning them.
        // (Read through the string's own iterator: a `drop(while:)` view cost
        // more than the rest of the check. Past more than one `-` the literal
        // is invalid, which the scan below answers with `false` as well.)
        var bytes = text.utf8.makeIterator()
        var first = bytes.next()
        if first == UInt8(ascii: "-") { first = bytes.next() }
        if let first, (UInt8(ascii: "1")...UInt8(ascii: "9")).contains(first) { return false }
        return withLayout(of: text) { bytes, layout in
            layout.integer.allSatisfy { bytes[$0] == 0x30 } && (layout.fraction ?? 0..<0).allSatisfy { bytes[$0] == 0x30 }
        } ?? false
    }

    /// Whether `text` is a JSON number without fraction and exponent (`NumberLiteral(text)?.isInteger`).
    static func isInteger(_ text: String) -> Bool {
        withLayout(of: text) { _, layout in layout.fraction == nil && layout.exponent == nil } ?? false
    }

    /// The value of an integer literal (no fraction, no exponent) if it fits
    /// `T`: `NumberLiteral(text)?.isInteger == true ? T(text) : nil`, read in place.
    static func integer<T: FixedWidthInteger>(_ text: String, as _: T.Type) -> T? {
        let value: T?? = withLayout(of: text) { bytes, layout in
            guard layout.fraction == nil, layout.exponent == nil else { return nil }
            // Negative values accumulate downwards, so `T.min` fits.
            var value: T = 0
            for index in layout.integer {
                let digit = T(bytes[index] &- 0x30)
                let (shifted, overflowA) = value.multipliedReportingOverflow(by: 10)
                let (next, overflowB) =
                    layout.isNegative ? shifted.subtractingReportingOverflow(digit) : shifted.addingReportingOverflow(digit)
                guard !overflowA, !overflowB else { return nil }
                value = next
            }
            return value
        }
        return value ?? nil
    }

    /// Runs `body` over the bytes of `text` and their layout; `nil` unless
    /// `text` is exactly one JSON number.
    static func withLayout<R>(of text: String, _ body: (UnsafeBufferPointer<UInt8>, Layout) -> R) -> R? {
        func run(_ bytes: UnsafeBufferPointer<UInt8>) -> R? {
            guard case .success(let layout) = scan(bytes, from: 0), layout.end == bytes.count else { return nil }
            return body(bytes, layout)
        }
        if let result = text.utf8.withContiguousStorageIfAvailable(run) { return result }
        return Array(text.utf8).withUnsafeBufferPointer(run)
    }

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
        bytes.withUnsafeBufferPointer { scan($0, from: start) }
    }

    static func scan(_ bytes: UnsafeBufferPointer<UInt8>, from start: Int) -> Result<Layout, Failure> {
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
