import Foundation

/// A money amount, exact: parsed from the JSON number literal's digits into a
/// `Decimal`, never through binary floating point.
///
/// Equality, ordering and hashing follow the value (`17.50 == 17.5`), while
/// ``description`` keeps the number of decimals that was transmitted
/// (`17.50`), so logs show what the provider sent.
///
/// Accepted: any JSON number literal whose value `Decimal` holds exactly, at
/// most 38 significant digits and a power of ten within ±127. Exponent forms
/// are accepted when exact (`1.5e2` is 150) and rendered without exponent;
/// anything that would round is rejected rather than approximated.
///
/// ```swift
/// let fee = Amount("2.50")!
/// fee.description               // "2.50"
/// Amount("0.1")! + Amount("0.2")! == Amount("0.3")!  // true
/// ```
public struct Amount: Sendable, Hashable, Comparable {
    /// The exact value.
    public let value: Decimal
    /// Decimals shown by ``description``: as transmitted, or the larger of two operands.
    public let scale: Int

    /// The ``description`` when it is known at creation (parsed amounts):
    /// rendering a `Decimal` is far dearer than keeping the text.
    private let text: String?

    private init(value: Decimal, scale: Int, text: String? = nil) {
        self.value = value
        self.scale = scale
        self.text = text
    }

    /// Wraps a finite decimal; `nil` for NaN.
    public init?(_ value: Decimal) {
        guard value.isFinite else { return nil }
        self.init(value: value, scale: value.isZero ? 0 : max(0, -Int(value.exponent)))
    }

    /// Parses a JSON number literal (`106`, `20.00`, `-2.5`, `1.5e2`); `nil` if
    /// it is not one or cannot be held exactly.
    public init?(_ literal: String) {
        guard let parsed = NumberLiteral.withLayout(of: literal, { Self.parse($0, $1, literal: literal) }), let parsed
        else { return nil }
        self = parsed
    }

    /// The amount `bytes` spell (a whole JSON number laid out as `layout`).
    ///
    /// value = significant digits × 10^power. The significand is read into a
    /// `UInt64` when it fits (19 digits), else digit by digit into a `Decimal`.
    private static func parse(_ bytes: UnsafeBufferPointer<UInt8>, _ layout: NumberLiteral.Layout, literal: String)
        -> Amount?
    {
        let fraction = layout.fraction ?? layout.integer.upperBound..<layout.integer.upperBound
        guard let exponent = exponent(bytes, layout.exponent) else { return nil }
        let power = exponent - fraction.count
        guard (-128...127).contains(power) else { return nil }

        // The digits without the point: integer then fraction.
        func digit(_ index: Int) -> UInt8 {
            bytes[index < layout.integer.count ? layout.integer.lowerBound + index : fraction.lowerBound + index - layout.integer.count]
                &- UInt8(ascii: "0")
        }
        let count = layout.integer.count + fraction.count
        var first = 0
        while first < count, digit(first) == 0 { first += 1 }
        var end = count
        while end > first, digit(end - 1) == 0 { end -= 1 }  // trailing zeros are scale, not precision
        let trimmedPower = power + (count - end)
        guard end - first <= 38, trimmedPower <= 127 else { return nil }

        let scale = max(0, -power)
        guard first < end else { return Amount(value: .zero, scale: scale, text: Self.zeroText(scale: scale)) }
        let significand: Decimal
        if end - first <= 19 {
            var integer: UInt64 = 0
            for index in first..<end { integer = integer &* 10 &+ UInt64(digit(index)) }
            significand = Decimal(integer)
        } else {
            var decimal = Decimal.zero
            for index in first..<end { decimal = decimal * 10 + Decimal(Int(digit(index))) }
            significand = decimal
        }
        let value = Decimal(sign: layout.isNegative ? .minus : .plus, exponent: trimmedPower, significand: significand)

        // Without an exponent the literal is already the description (the
        // JSON grammar allows no leading zeros, and a zero was handled above).
        if layout.exponent == nil { return Amount(value: value, scale: scale, text: literal) }
        var text: [UInt8] = layout.isNegative ? [UInt8(ascii: "-")] : []
        let significant = count - first  // these digits × 10^power is the value
        if power >= 0 {
            for index in first..<count { text.append(digit(index) + UInt8(ascii: "0")) }
            text.append(contentsOf: repeatElement(UInt8(ascii: "0"), count: power))
        } else if significant > scale {
            for index in first..<count {
                if index - first == significant - scale { text.append(UInt8(ascii: ".")) }
                text.append(digit(index) + UInt8(ascii: "0"))
            }
        } else {
            text.append(contentsOf: "0.".utf8)
            text.append(contentsOf: repeatElement(UInt8(ascii: "0"), count: scale - significant))
            for index in first..<count { text.append(digit(index) + UInt8(ascii: "0")) }
        }
        return Amount(value: value, scale: scale, text: String(decoding: text, as: UTF8.self))
    }

    /// `0`, or `0.` and `scale` zeros: a zero never shows a sign.
    private static func zeroText(scale: Int) -> String {
        scale == 0 ? "0" : "0." + String(repeating: "0", count: scale)
    }

    /// The exponent's value; `nil` past four digits, which cannot land within
    /// Decimal's range anyway.
    private static func exponent(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>?) -> Int? {
        guard var index = range?.lowerBound, let end = range?.upperBound else { return 0 }
        var negative = false
        if bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") {
            negative = bytes[index] == UInt8(ascii: "-")
            index += 1
        }
        guard end - index <= 4 else { return nil }
        var value = 0
        while index < end {
            value = value * 10 + Int(bytes[index] - UInt8(ascii: "0"))
            index += 1
        }
        return negative ? -value : value
    }

    public static let zero = Amount(value: .zero, scale: 0)

    public static func == (lhs: Amount, rhs: Amount) -> Bool { lhs.value == rhs.value }
    public func hash(into hasher: inout Hasher) { hasher.combine(value) }
    public static func < (lhs: Amount, rhs: Amount) -> Bool { lhs.value < rhs.value }

    public static func + (lhs: Amount, rhs: Amount) -> Amount {
        Amount(value: lhs.value + rhs.value, scale: max(lhs.scale, rhs.scale))
    }

    public static func - (lhs: Amount, rhs: Amount) -> Amount {
        Amount(value: lhs.value - rhs.value, scale: max(lhs.scale, rhs.scale))
    }
}

extension Amount: LosslessStringConvertible {
    /// Plain decimal text, never an exponent, with at least ``scale`` decimals:
    /// `17.50`, `106`, `-0.5`.
    public var description: String {
        if let text { return text }
        var text = value.description  // Decimal prints plain digits, minimal decimals
        let decimals = text.firstIndex(of: ".").map { text.distance(from: $0, to: text.endIndex) - 1 } ?? 0
        if decimals < scale {
            if decimals == 0 { text += "." }
            text += String(repeating: "0", count: scale - decimals)
        }
        return text
    }
}

extension Amount: Codable {
    /// Encodes as a string (`"17.50"`): a JSON number would pass through
    /// `Double` in many decoders.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }

    /// Decodes from a string holding a number literal, or else from whatever
    /// `Decimal` decoding the decoder offers (exact only if the decoder is).
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let text = try? container.decode(String.self) {
            guard let amount = Amount(text) else {
                throw DecodingError.dataCorruptedError(
                    in: container, debugDescription: "\"\(text)\" is not an exact decimal amount")
            }
            self = amount
        } else if let amount = Amount(try container.decode(Decimal.self)) {
            self = amount
        } else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "amount is not a finite number")
        }
    }
}
