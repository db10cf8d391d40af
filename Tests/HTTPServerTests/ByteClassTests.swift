import Testing

@testable import HTTPServer

/// The byte classes the head parser scans runs of, against the grammar's
/// own lists, for every byte value.
@Suite struct ByteClassTests {
    /// RFC 9110 §5.6.2: `tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" /
    /// "+" / "-" / "." / "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA`.
    @Test func tokenBytesAreExactlyTheGrammarsTchar() {
        let tchar = Set(Array("!#$%&'*+-.^_`|~0123456789".utf8))
            .union(UInt8(ascii: "a")...UInt8(ascii: "z"))
            .union(UInt8(ascii: "A")...UInt8(ascii: "Z"))
        for byte in UInt8.min...UInt8.max {
            #expect(byte.isTokenByte == tchar.contains(byte), "byte \(byte)")
        }
    }

    /// `VCHAR` (0x21–0x7E) and, in field values, `obs-text` (0x80–0xFF).
    @Test func visibleBytes() {
        for byte in UInt8.min...UInt8.max {
            #expect(byte.isVisibleASCII == (0x21...0x7E).contains(byte), "byte \(byte)")
            #expect(byte.isFieldVisibleByte == ((0x21...0x7E).contains(byte) || byte >= 0x80), "byte \(byte)")
        }
    }
}
