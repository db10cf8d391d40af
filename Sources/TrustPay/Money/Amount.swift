import Foundation

/// A money amount, exact: parsed from the JSON number literal digit by digit
/// into a `Decimal`, never through binary floating point.
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

    private init(value: Decimal, scale: Int) {
        self.value = value
        self.scale = scale
    }

    /// Wraps a finite decimal; `nil` for NaN.
    public init?(_ value: Decimal) {
        guard value.isFinite else { return nil }
        self.init(value: value, scale: value.isZero ? 0 : max(0, -Int(value.exponent)))
    }

    /// Parses a JSON number literal (`106`, `20.00`, `-2.5`, `1.5e2`); `nil` if
    /// it is not one or cannot be held exactly.
    public init?(_ literal: String) {
        guard let parts = NumberLiteral(literal) else { return nil }
        let fraction = parts.fractionDigits ?? ""
        guard let exponent = Self.exponent(parts.exponent) else { return nil }
        let power = exponent - fraction.utf8.count  // value = digits × 10^power
        guard (-128...127).contains(power) else { return nil }

        var digits = Substring(parts.integerDigits + fraction).drop { $0 == "0" }
        var trimmedPower = power
        while digits.last == "0" {  // trailing zeros are scale, not precision
            digits.removeLast()
            trimmedPower += 1
        }
        guard digits.count <= 38, trimmedPower <= 127 else { return nil }

        var significand = Decimal.zero
        for digit in digits.utf8 {
            significand = significand * 10 + Decimal(Int(digit - UInt8(ascii: "0")))
        }
        let value =
            digits.isEmpty
            ? Decimal.zero
            : Decimal(sign: parts.isNegative ? .minus : .plus, exponent: trimmedPower, significand: significand)
        self.init(value: value, scale: max(0, -power))
    }

    private static func exponent(_ text: String?) -> Int? {
        guard let text else { return 0 }
        // More than four digits cannot land within Decimal's range anyway.
        guard text.utf8.filter({ $0 != UInt8(ascii: "+") && $0 != UInt8(ascii: "-") }).count <= 4 else { return nil }
        return Int(text)
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
