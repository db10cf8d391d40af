import Testing

@testable import TrustPay

/// Integers written back for the round trip (`decimalText`) and into event
/// identities (`CompactJSONArray`) through stack buffers: byte for byte what
/// `String(value)` writes, which stored keys and signed texts depend on.
@Suite("Integer text: the digits String(value) writes")
struct IntegerTextTests {
    static let int64Edges: [Int64] = [
        0, 1, -1, 9, 10, -10, 99, 100, 8_820_250_900_009, -8_820_250_900_009, .max, .min, .max - 1, .min + 1,
    ]

    @Test(arguments: int64Edges)
    func sixtyFourBitIntegers(_ value: Int64) {
        #expect(decimalText(value) == String(value))
    }

    @Test func otherWidths() {
        for value in [Int.min, -1, 0, 1, Int.max] { #expect(decimalText(value) == String(value)) }
        for value in [Int8.min, -1, 0, 1, Int8.max] { #expect(decimalText(value) == String(value)) }
        for value in [UInt64.min, 1, UInt64.max] { #expect(decimalText(value) == String(value)) }
        for value in [Int128.min, -1, 0, Int128.max] { #expect(decimalText(value) == String(value)) }
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<2_000 {
            let value = Int64.random(in: .min ... .max, using: &generator)
            #expect(decimalText(value) == String(value))
        }
    }

    @Test(arguments: int64Edges)
    func identityTextsWriteIntegersAsStringDoes(_ value: Int64) {
        var parts = CompactJSONArray()
        parts.append(value)
        parts.append(Int(truncatingIfNeeded: value))
        parts.append(strings: [])
        parts.append(strings: ["A\"1", "B"])
        #expect(parts.text == #"[\#(value),\#(Int(truncatingIfNeeded: value)),[],["A\"1","B"]]"#)
    }
}
