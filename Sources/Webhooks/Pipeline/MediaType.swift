import HTTPServer

/// Checks a request's `Content-Type`: `application/json`, in any case, with
/// no parameter but an optional `charset=utf-8`.
enum MediaType {
    static func isJSON(_ headers: HTTPHeaders) -> Bool {
        guard var value = headers["Content-Type"] else { return false }
        return value.withUTF8 { isJSON($0) }
    }

    /// Over the value's bytes, part by part (`;`-separated, optional
    /// whitespace around each): every callback goes through here, and
    /// splitting and lower-casing Strings cost more than the rest of the
    /// request's checks together.
    static func isJSON(_ value: UnsafeBufferPointer<UInt8>) -> Bool {
        var start = value.startIndex
        var isFirst = true
        while true {
            let end = value[start...].firstIndex(of: UInt8(ascii: ";")) ?? value.endIndex
            let part = trimmed(value[start..<end])
            if isFirst {
                guard equalIgnoringCase(part, "application/json") else { return false }
                isFirst = false
            } else {
                guard equalIgnoringCase(part, "charset=utf-8") || equalIgnoringCase(part, "charset=\"utf-8\"") else {
                    return false
                }
            }
            guard end < value.endIndex else { return true }
            start = end + 1
        }
    }

    private static func trimmed(_ part: Slice<UnsafeBufferPointer<UInt8>>) -> Slice<UnsafeBufferPointer<UInt8>> {
        let isOWS = { (byte: UInt8) in byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") }
        guard let first = part.firstIndex(where: { !isOWS($0) }), let last = part.lastIndex(where: { !isOWS($0) })
        else { return part[part.endIndex...] }
        return part[first...last]
    }

    /// `expected` is lower-case ASCII.
    private static func equalIgnoringCase(_ part: Slice<UnsafeBufferPointer<UInt8>>, _ expected: StaticString) -> Bool {
        guard part.count == expected.utf8CodeUnitCount else { return false }
        return zip(part, UnsafeBufferPointer(start: expected.utf8Start, count: expected.utf8CodeUnitCount))
            .allSatisfy { $0.asciiLowercased == $1 }
    }
}
