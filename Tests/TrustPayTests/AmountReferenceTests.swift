import Foundation
import Testing
@testable import TrustPay

/// `Amount` parses literals and renders descriptions on fast paths (an
/// integer significand, the text kept from parsing). This suite holds the
/// straightforward implementation they replaced, digit by digit through
/// `Decimal` and `Decimal.description`, and checks that both agree on value,
/// scale, description, hash and rejection over many literals.
@Suite("Amounts against the reference implementation")
struct AmountReferenceTests {
    @Test("hand-picked literals: exponents, signs, zeros, 38 digits, rejects")
    func handPicked() {
        let literals = [
            "0", "-0", "0.0", "-0.00", "0e5", "0E-200", "0.000e+3", "00", "01", "-01", "1.", ".5", "+1", "1e", "1e+",
            "1.5e2", "1.50E-1", "-1.5e-2", "17.50", "106", "20.00", "-2.5", "0.10", "2.50", "99.99", "-99.989",
            "1e127", "1e128", "1e-127", "1e-128", "1e-129", "10e127", "0.1e128", "1.0e127", "123e125", "1e-0",
            "1e00127", "1e0000", "1e00001", "5e-1", "5E+1", "9.999", "-9", "1000000", "100.000",
            "18446744073709551615", "18446744073709551616", "18446744073709551615.5", "1844674407370955161.5",
            "99999999999999999999", "12345678901234567890123456789012345678",
            "123456789012345678901234567890123456789", "1234567890123456789012345678901234567.8",
            "12345678901234567890123456789012345678e89", "12345678901234567890123456789012345678e90",
            "0.12345678901234567890123456789012345678", "-0.00000000000000000000000000000000000001",
            "100000000000000000000000000000000000000000", "1000000000000000000000000000000000000000e-3",
            "1.23456789012345678901234567890123456780000", "0.00000000000000000000000000000000000000000000001",
            "", "-", "abc", "1x", " 1", "1 ", "1e5.5", "1..2", "--1", "0x10", "١", "1e1e1", "NaN", "Infinity",
        ]
        for literal in literals { check(literal) }
    }

    @Test("generated literals")
    func generated() {
        var random = SplitMix(seed: 0x5EED_14)
        for _ in 0..<20_000 {
            var text = random.next() % 4 == 0 ? "-" : ""
            let integerLength = Int(random.next() % 25)
            if integerLength == 0 || random.next() % 5 == 0 {
                text += "0"
            } else {
                text += String(1 + random.next() % 9)
                for _ in 1..<integerLength { text += digit(&random) }
            }
            if random.next() % 2 == 0 {
                text += "."
                for _ in 0..<(1 + Int(random.next() % 20)) { text += digit(&random) }
            }
            if random.next() % 4 == 0 {
                text += random.next() % 2 == 0 ? "e" : "E"
                text += ["", "+", "-"][Int(random.next() % 3)]
                text += String(random.next() % 140)
            }
            check(text)
        }
    }

    private func digit(_ random: inout SplitMix) -> String {
        // Zeros are frequent in money; favour them.
        random.next() % 3 == 0 ? "0" : String(random.next() % 10)
    }

    private func check(_ literal: String, sourceLocation: SourceLocation = #_sourceLocation) {
        let reference = ReferenceAmount.parse(literal)
        let amount = Amount(literal)
        #expect((amount == nil) == (reference == nil), "\(literal)", sourceLocation: sourceLocation)
        guard let amount, let reference else { return }
        #expect(amount.value == reference.value, "\(literal)", sourceLocation: sourceLocation)
        #expect(amount.scale == reference.scale, "\(literal)", sourceLocation: sourceLocation)
        #expect(amount.description == reference.description, "\(literal)", sourceLocation: sourceLocation)
        #expect(amount.hashValue == Amount(reference.value)?.hashValue, "\(literal)", sourceLocation: sourceLocation)
        // Through arithmetic, where no text is kept.
        let doubled = amount + amount
        #expect(doubled.value == reference.value + reference.value, "\(literal)", sourceLocation: sourceLocation)
        let doubledReference = ReferenceAmount.Parsed(value: doubled.value, scale: doubled.scale)
        #expect(doubled.description == doubledReference.description, "\(literal)", sourceLocation: sourceLocation)
    }
}

/// A small deterministic generator, so a failure reproduces.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// The implementation `Amount` had before its fast paths, verbatim but for names.
enum ReferenceAmount {
    struct Parsed {
        let value: Decimal
        let scale: Int
        var description: String {
            var text = value.description
            let decimals = text.firstIndex(of: ".").map { text.distance(from: $0, to: text.endIndex) - 1 } ?? 0
            if decimals < scale {
                if decimals == 0 { text += "." }
                text += String(repeating: "0", count: scale - decimals)
            }
            return text
        }
    }

    static func parse(_ literal: String) -> Parsed? {
        guard let parts = Literal(literal) else { return nil }
        let fraction = parts.fractionDigits ?? ""
        guard let exponent = exponent(parts.exponent) else { return nil }
        let power = exponent - fraction.utf8.count
        guard (-128...127).contains(power) else { return nil }

        var digits = Substring(parts.integerDigits + fraction).drop { $0 == "0" }
        var trimmedPower = power
        while digits.last == "0" {
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
        return Parsed(value: value, scale: max(0, -power))
    }

    private static func exponent(_ text: String?) -> Int? {
        guard let text else { return 0 }
        guard text.utf8.filter({ $0 != UInt8(ascii: "+") && $0 != UInt8(ascii: "-") }).count <= 4 else { return nil }
        return Int(text)
    }

    /// The JSON number grammar, as a regular expression would put it.
    struct Literal {
        let isNegative: Bool
        let integerDigits: String
        let fractionDigits: String?
        let exponent: String?

        init?(_ text: String) {
            let bytes = Array(text.utf8)
            var i = 0
            func isDigit(_ at: Int) -> Bool { at < bytes.count && (0x30...0x39).contains(bytes[at]) }
            func digits() -> String {
                let first = i
                while isDigit(i) { i += 1 }
                return String(decoding: bytes[first..<i], as: UTF8.self)
            }
            isNegative = i < bytes.count && bytes[i] == UInt8(ascii: "-")
            if isNegative { i += 1 }
            guard isDigit(i) else { return nil }
            if bytes[i] == UInt8(ascii: "0") {
                integerDigits = "0"
                i += 1
                if isDigit(i) { return nil }
            } else {
                integerDigits = digits()
            }
            if i < bytes.count, bytes[i] == UInt8(ascii: ".") {
                i += 1
                let fraction = digits()
                guard !fraction.isEmpty else { return nil }
                fractionDigits = fraction
            } else {
                fractionDigits = nil
            }
            if i < bytes.count, bytes[i] == UInt8(ascii: "e") || bytes[i] == UInt8(ascii: "E") {
                i += 1
                let signStart = i
                if i < bytes.count, bytes[i] == UInt8(ascii: "+") || bytes[i] == UInt8(ascii: "-") { i += 1 }
                guard !digits().isEmpty else { return nil }
                exponent = String(decoding: bytes[signStart..<i], as: UTF8.self)
            } else {
                exponent = nil
            }
            guard i == bytes.count else { return nil }
        }
    }
}

@Suite("Integer fields read in place")
struct IntegerLiteralTests {
    static let literals = [
        "0", "-0", "1", "-1", "42", "127", "128", "-128", "-129", "255", "256", "9223372036854775807",
        "9223372036854775808", "-9223372036854775808", "-9223372036854775809", "18446744073709551615",
        "18446744073709551616", "8820250900009", "00", "01", "+1", "1.0", "1e2", "1E0", "-", "", " 1", "1 ", "x",
        "99999999999999999999999",
    ]

    @Test("agree with `T(text)` on integer literals and refuse every other literal")
    func sameAsStandardLibrary() {
        func check<T: FixedWidthInteger>(_: T.Type) {
            for literal in Self.literals {
                let expected = NumberLiteral(literal)?.isInteger == true ? T(literal) : nil
                #expect(NumberLiteral.integer(literal, as: T.self) == expected, "\(literal) as \(T.self)")
            }
        }
        check(Int64.self)
        check(Int.self)
        check(Int8.self)
        check(UInt8.self)
        check(UInt64.self)
    }
}
