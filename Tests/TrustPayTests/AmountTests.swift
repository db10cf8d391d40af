import Foundation
import Testing
@testable import TrustPay

@Suite("Amounts")
struct AmountTests {
    @Test("decimal arithmetic is exact: 0.1 + 0.2 == 0.3")
    func exactSum() throws {
        let sum = try #require(Amount("0.1")) + (try #require(Amount("0.2")))
        #expect(sum == Amount("0.3"))
        #expect(sum.description == "0.3")
    }

    @Test("description keeps the transmitted decimals",
          arguments: [("17.50", "17.50"), ("106", "106"), ("20.00", "20.00"), ("-2.5", "-2.5"), ("0.10", "0.10"),
                      ("1.5e2", "150"), ("1.50E-1", "0.150"), ("-0", "0"), ("0.00", "0.00"),
                      ("12345678901234567890123456789012345678", "12345678901234567890123456789012345678")])
    func descriptions(_ literal: String, _ expected: String) throws {
        #expect(try #require(Amount(literal)).description == expected)
    }

    @Test("equality and ordering follow the value, not the spelling")
    func valueSemantics() throws {
        let a = try #require(Amount("17.50"))
        let b = try #require(Amount("17.5"))
        #expect(a == b)
        #expect(Set([a, b]).count == 1)
        #expect(Amount("2.5")! < Amount("10")!)
        #expect(Amount("-1")! < .zero)
        #expect(Amount("99.99")! > Amount("99.989")!)
    }

    @Test("holds more digits than a Double can")
    func beyondDouble() throws {
        let big = try #require(Amount("9007199254740993.01"))
        #expect(big.description == "9007199254740993.01")
        let cent = try #require(Amount("0.01"))
        #expect(big - cent == Amount("9007199254740993"))
    }

    @Test("rejects text that is not an exact JSON number",
          arguments: ["", "abc", "1,5", " 1", "1 ", "+1", "01", "1.", ".5", "NaN", "Infinity", "1e200", "1e-200",
                      "123456789012345678901234567890123456789012", "0x10", "1e99999"])
    func rejectsInexact(_ literal: String) {
        #expect(Amount(literal) == nil, "accepted \(literal)")
    }

    @Test("encodes as a string and decodes from a string or a number")
    func codable() throws {
        let amount = try #require(Amount("17.50"))
        let data = try JSONEncoder().encode([amount])
        #expect(String(decoding: data, as: UTF8.self) == #"["17.50"]"#)
        #expect(try JSONDecoder().decode([Amount].self, from: data) == [amount])
        #expect(try JSONDecoder().decode([Amount].self, from: Data("[2.5]".utf8)) == [Amount("2.5")])
        #expect(throws: DecodingError.self) { try JSONDecoder().decode([Amount].self, from: Data(#"["abc"]"#.utf8)) }
    }

    @Test("becomes a JSON number literal in plain decimal text")
    func jsonValue() throws {
        #expect(JSONValue(try #require(Amount("1.5e2"))) == .number("150"))
        #expect(JSONValue(try #require(Amount("17.50"))) == .number("17.50"))
    }
}

@Suite("Number forms")
struct NumberFormTests {
    @Test("shortest drops trailing fractional zeros",
          arguments: [("20.00", "20"), ("2.50", "2.5"), ("0.10", "0.1"), ("106", "106"), ("100", "100"),
                      ("-3.500", "-3.5"), ("0.0", "0"), ("1.05", "1.05")])
    func shortest(_ literal: String, _ expected: String) {
        #expect(NumberForm.shortest.render(literal) == expected)
    }

    @Test("two decimals pads to two places and leaves longer fractions alone",
          arguments: [("20", "20.00"), ("2.5", "2.50"), ("2.50", "2.50"), ("0.125", "0.125"), ("-1", "-1.00"),
                      ("0", "0.00")])
    func twoDecimals(_ literal: String, _ expected: String) {
        #expect(NumberForm.twoDecimals.render(literal) == expected)
    }

    @Test("exponent forms and non-numbers are left as they are", arguments: NumberForm.allCases)
    func leavesExponents(_ form: NumberForm) {
        #expect(form.render("1.50e2") == "1.50e2")
        #expect(form.render("abc") == "abc")
    }

    @Test("as transmitted never changes the literal")
    func asTransmitted() {
        for literal in ["20.00", "2.5", "106", "0.10"] {
            #expect(NumberForm.asTransmitted.render(literal) == literal)
        }
    }
}
