import TrustPay

// libFuzzer's entry point. Whatever the JSON reader accepts, its compact
// form must read back as the same value and be a fixed point: the compact
// text is what content hashes and stored events are built from.

@_cdecl("LLVMFuzzerTestOneInput")
public func jsonValueFuzzInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    if let violation = JSONValueCheck.check(Array(UnsafeBufferPointer(start: data, count: size))) {
        fatalError("JSON: \(violation)")
    }
    return 0
}

enum JSONValueCheck {
    static func check(_ bytes: [UInt8]) -> String? {
        guard let value = try? JSONValue(parsing: bytes) else { return nil }
        let compact = value.compactJSONBytes
        guard let again = try? JSONValue(parsing: compact) else {
            return "its compact form does not parse: \(String(decoding: compact, as: UTF8.self))"
        }
        if again != value { return "the compact form reads as another value" }
        if again.compactJSONBytes != compact { return "the compact form is not a fixed point" }
        return nil
    }
}
