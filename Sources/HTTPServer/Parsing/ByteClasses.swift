// Byte classes from the HTTP grammar (RFC 9110 §5.6, RFC 9112 §2). Written as
// comparisons or constant bit sets rather than lookup tables, so they need no
// global state.

extension UInt8 {
    static let cr = UInt8(ascii: "\r")
    static let lf = UInt8(ascii: "\n")
    static let space = UInt8(ascii: " ")
    static let htab = UInt8(ascii: "\t")
    static let colon = UInt8(ascii: ":")
    static let comma = UInt8(ascii: ",")
    static let semicolon = UInt8(ascii: ";")

    /// `tchar`: the bytes a method, field name or chunk-ext name may use:
    /// `!#$%&'*+-.^_`|~`, digits and letters, as a 128-bit set (bit n is
    /// byte n), two shifts instead of a chain of range tests per byte of
    /// every field name. `ByteClassTests` checks it against the grammar's list.
    @inline(__always) var isTokenByte: Bool {
        let low: UInt64 = 0x03FF_6CFA_0000_0000  // bytes 0–63
        let high: UInt64 = 0x57FF_FFFF_C7FF_FFFE  // bytes 64–127
        return self < 64 ? (low >> self) & 1 == 1 : self < 128 && (high >> (self &- 64)) & 1 == 1
    }

    /// `VCHAR`: visible US-ASCII, the only bytes a request-target may use.
    @inline(__always) var isVisibleASCII: Bool { self >= 0x21 && self <= 0x7E }

    /// `DIGIT`.
    @inline(__always) var isDigit: Bool { self >= UInt8(ascii: "0") && self <= UInt8(ascii: "9") }

    /// SP or HTAB (`OWS`/`BWS`).
    @inline(__always) var isWhitespace: Bool { self == .space || self == .htab }

    /// A non-whitespace byte allowed in a field value: VCHAR or obs-text.
    /// NUL, CR, LF, DEL and the other controls are not.
    @inline(__always) var isFieldVisibleByte: Bool { isVisibleASCII || self >= 0x80 }

    /// The value of a `HEXDIG` (either case), or nil.
    @inline(__always) var hexDigitValue: Int? {
        switch self {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return Int(self &- UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return Int(self &- UInt8(ascii: "a") &+ 10)
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return Int(self &- UInt8(ascii: "A") &+ 10)
        default: return nil
        }
    }

    /// ASCII lower-casing; other bytes unchanged.
    @inline(__always) package var asciiLowercased: UInt8 {
        self &- UInt8(ascii: "A") < 26 ? self | 0x20 : self
    }
}

extension StringProtocol {
    /// Without leading and trailing spaces and tabs: HTTP's optional
    /// whitespace (OWS, RFC 9110 §5.6.3) around a header value or list item.
    package func trimmingOptionalWhitespace() -> SubSequence {
        let isOWS: (Character) -> Bool = { $0 == " " || $0 == "\t" }
        guard let first = firstIndex(where: { !isOWS($0) }), let last = lastIndex(where: { !isOWS($0) }) else {
            return self[endIndex..<endIndex]
        }
        return self[first...last]
    }
}
