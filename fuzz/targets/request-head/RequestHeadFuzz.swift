import HTTPServer

// libFuzzer's entry point. Besides not crashing, the parser must reach the
// same verdict and the same head however the bytes arrive: parsed at once,
// or resumed over pieces cut where the input's first byte says.

@_cdecl("LLVMFuzzerTestOneInput")
public func requestHeadFuzzInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    if let violation = RequestHeadCheck.check(Array(UnsafeBufferPointer(start: data, count: size))) {
        fatalError("request head: \(violation)")
    }
    return 0
}

enum RequestHeadCheck {
    static let limits: HTTPLimits = {
        var limits = HTTPLimits()
        limits.maxHeaderBytes = 2048
        limits.maxURIBytes = 512
        limits.maxHeaderCount = 16
        return limits
    }()

    /// A description of what went wrong, or nil.
    static func check(_ input: [UInt8]) -> String? {
        guard let first = input.first else { return nil }
        let bytes = Array(input.dropFirst())
        var whole = RequestHead()
        let once = bytes.withUnsafeBytes { RequestHeadParser.parse($0, limits: limits, into: &whole) }
        if once == .complete {
            guard whole.headLength > 0, whole.headLength <= bytes.count else { return "head length \(whole.headLength)" }
            for field in whole.headers where field.name.end > whole.headLength || field.value.end > whole.headLength {
                return "a field outside the head"
            }
        }
        // Resume over growing prefixes, `step` bytes more each time.
        let step = Int(first % 7) + 1
        var resumed = RequestHead()
        var length = 0
        var verdict = HeadParseResult.incomplete
        while verdict == .incomplete && length < bytes.count {
            length = min(bytes.count, length + step)
            verdict = bytes[0..<length].withUnsafeBytes { RequestHeadParser.parse($0, limits: limits, into: &resumed) }
        }
        if verdict != once { return "at once \(once), resumed by \(step): \(verdict)" }
        if once == .complete && resumed != whole { return "heads differ when resumed by \(step)" }
        return nil
    }
}
