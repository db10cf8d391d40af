import Glibc

/// An IPv4 or IPv6 CIDR range (`10.0.0.0/8`, `::1/128`, or a bare address).
/// IPv4 is held as IPv4-mapped IPv6 so one comparison serves both.
package struct IPRange: Sendable, Equatable, CustomStringConvertible {
    package let description: String
    private let network: [UInt8]
    private let prefix: Int

    package init?(_ text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count <= 2, let address = IPRange.bytes(String(parts[0])) else { return nil }
        let isV4 = !parts[0].contains(":")
        let maxPrefix = isV4 ? 32 : 128
        var length = maxPrefix
        if parts.count == 2 {
            guard let value = Int(parts[1]), (0...maxPrefix).contains(value) else { return nil }
            length = value
        }
        prefix = isV4 ? length + 96 : length
        network = IPRange.masked(address, prefix)
        description = text
    }

    package func contains(_ address: String) -> Bool {
        guard let bytes = IPRange.bytes(address) else { return false }
        return IPRange.masked(bytes, prefix) == network
    }

    /// True for a numeric IPv4 or IPv6 address.
    package static func isNumericAddress(_ text: String) -> Bool { bytes(text) != nil }

    /// 16 bytes for any numeric address; nil for anything else.
    package static func bytes(_ text: String) -> [UInt8]? {
        var v6 = in6_addr()
        if inet_pton(AF_INET6, text, &v6) == 1 {
            return withUnsafeBytes(of: &v6) { Array($0) }
        }
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 {
            return [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF] + withUnsafeBytes(of: &v4) { Array($0) }
        }
        return nil
    }

    private static func masked(_ bytes: [UInt8], _ prefix: Int) -> [UInt8] {
        bytes.enumerated().map { index, byte in
            let bits = min(8, max(0, prefix - index * 8))
            return bits == 8 ? byte : byte & UInt8(truncatingIfNeeded: 0xFF << (8 - bits))
        }
    }
}
