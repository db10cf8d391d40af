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
        var md5 = canonicalPrefix(signedText: signedText)
        update(&md5, with: secret)
        return md5.finalize().withUnsafeBytes { Array($0) }
    }

    /// The hash of the canonical string up to its secret: `signedText`, then
    /// `&` unless it is empty, then `secret=`. Each secret tried continues a
    /// copy of it (the text is hashed once however many secrets a merchant
    /// has), and finalized as it is, with the empty secret, it is the
    /// content hash (``SignedContent/contentHash(ofSignedText:signature:)``).
    static func canonicalPrefix(signedText: [UInt8]) -> Insecure.MD5 {
        var md5 = Insecure.MD5()
        signedText.withUnsafeBytes { md5.update(bufferPointer: $0) }
        let separator: StaticString = "&secret="
        separator.withUTF8Buffer { text in
            // Past the `&` when there is no field before the secret.
            let from = signedText.isEmpty ? 1 : 0
            md5.update(bufferPointer: UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: text[from...])))
        }
        return md5
    }

    /// Whether `prefix` (``canonicalPrefix(signedText:)``) continued with
    /// `secret` hashes to `expected`, compared in constant time, without
    /// copying the digest out.
    static func matches(_ prefix: Insecure.MD5, secret: String, expected: [UInt8]) -> Bool {
        expected.withUnsafeBytes { matches(prefix, secret: secret, expected: $0) }
    }

    static func matches(_ prefix: Insecure.MD5, secret: String, expected: Received) -> Bool {
        expected.withUnsafeBytes { matches(prefix, secret: secret, expected: $0) }
    }

    private static func matches(_ prefix: Insecure.MD5, secret: String, expected: UnsafeRawBufferPointer) -> Bool {
        var md5 = prefix  // copied on write: `prefix` stays for the next secret
        update(&md5, with: secret)
        return md5.finalize().withUnsafeBytes { constantTimeEqual($0, expected) }
    }

    /// A received `sign`'s sixteen bytes, held inline: an array per
    /// callback was an allocation and its release for sixteen bytes.
    struct Received: Sendable {
        private var bytes: (UInt64, UInt64) = (0, 0)

        func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) -> R) -> R {
            Swift.withUnsafeBytes(of: bytes, body)
        }

        fileprivate mutating func withUnsafeMutableBytes<R>(_ body: (UnsafeMutableRawBufferPointer) -> R) -> R {
            Swift.withUnsafeMutableBytes(of: &bytes, body)
        }
    }

    private static func update(_ md5: inout Insecure.MD5, with secret: String) {
        var secret = secret
        secret.withUTF8 { md5.update(bufferPointer: UnsafeRawBufferPointer($0)) }
    }

    static func hex(_ bytes: [UInt8]) -> String {
        bytes.withUnsafeBytes(hex)
    }

    static func hex(_ digest: Insecure.MD5.Digest) -> String {
        digest.withUnsafeBytes(hex)
    }

    /// Lower-case hex, written straight into the string's storage.
    private static func hex(_ bytes: UnsafeRawBufferPointer) -> String {
        String(unsafeUninitializedCapacity: bytes.count * 2) { out in
            for (index, byte) in bytes.enumerated() {
                out[2 * index] = hexDigit(byte >> 4)
                out[2 * index + 1] = hexDigit(byte & 0x0F)
            }
            return bytes.count * 2
        }
    }

    private static func hexDigit(_ nibble: UInt8) -> UInt8 {
        nibble < 10 ? UInt8(ascii: "0") + nibble : UInt8(ascii: "a") + nibble - 10
    }

    /// Decodes 32 hex digits of either case; `nil` for anything else.
    static func parseHex(_ text: String) -> Received? {
        var text = text
        return text.withUTF8 { chars -> Received? in
            guard chars.count == 32 else { return nil }
            var out = Received()
            let valid = out.withUnsafeMutableBytes { out in
                for index in 0..<16 {
                    guard let high = nibble(chars[2 * index]), let low = nibble(chars[2 * index + 1]) else {
                        return false
                    }
                    out[index] = high << 4 | low
                }
                return true
            }
            return valid ? out : nil
        }
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
        a.withUnsafeBytes { x in b.withUnsafeBytes { y in constantTimeEqual(x, y) } }
    }

    static func constantTimeEqual(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Bool {
        guard a.count == 16, b.count == 16 else { return false }
        var difference: UInt8 = 0
        for index in 0..<16 {
            difference |= a[index] ^ b[index]
        }
        return difference == 0
    }
}
