import Crypto

/// MD5 through swift-crypto: the provider's signature algorithm, not a
/// choice of ours. swift-crypto rather than the system OpenSSL keeps the
/// wire format free of Linux-specific imports.
enum MD5 {
    static func digest(_ bytes: [UInt8]) -> [UInt8] {
        Array(Insecure.MD5.hash(data: bytes))
    }

    /// The digest of `signedText`, then `&` unless it is empty, then
    /// `secret=<secret>`: TrustPay's canonical string, hashed without
    /// joining it into one more buffer first.
    static func canonicalDigest(signedText: [UInt8], secret: String) -> [UInt8] {
        var md5 = Insecure.MD5()
        signedText.withUnsafeBytes { md5.update(bufferPointer: $0) }
        let separator: StaticString = "&secret="
        separator.withUTF8Buffer { text in
            // Past the `&` when there is no field before the secret.
            let from = signedText.isEmpty ? 1 : 0
            md5.update(bufferPointer: UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: text[from...])))
        }
        var secret = secret
        secret.withUTF8 { md5.update(bufferPointer: UnsafeRawBufferPointer($0)) }
        return md5.finalize().withUnsafeBytes { Array($0) }
    }

    static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Decodes 32 hex digits of either case; `nil` for anything else.
    static func parseHex(_ text: String) -> [UInt8]? {
        let chars = Array(text.utf8)
        guard chars.count == 32 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(16)
        for pair in stride(from: 0, to: 32, by: 2) {
            guard let high = nibble(chars[pair]), let low = nibble(chars[pair + 1]) else { return nil }
            out.append(high << 4 | low)
        }
        return out
    }

    private static func nibble(_ char: UInt8) -> UInt8? {
        switch char {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): char - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): char - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): char - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    /// Compares two digests touching every byte, so the time taken does not
    /// tell an attacker how many leading bytes of a forged signature were right.
    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == 16, b.count == 16 else { return false }
        var difference: UInt8 = 0
        for index in 0..<16 {
            difference |= a[index] ^ b[index]
        }
        return difference == 0
    }
}
