import NetworkAddresses
import HTTPServer

/// Who really sent a request: the TCP peer, unless that peer is a trusted
/// proxy, in which case `X-Forwarded-For` is read from the right, skipping
/// trusted proxies, and the first address that is not one is the client.
/// Entries added by untrusted parties (further left) are never believed.
package struct SourceAddress: Sendable {
    package let trustedProxies: [IPRange]

    package init(trustedProxies: [IPRange]) {
        self.trustedProxies = trustedProxies
    }

    package func client(of request: HTTPRequest) -> String? {
        guard let peer = request.remoteAddress?.host else { return nil }
        guard isTrusted(peer) else { return peer }
        let hops = request.headers.values("X-Forwarded-For")
            .flatMap { $0.split(separator: ",") }
            .map { String($0.trimmingOptionalWhitespace()) }
        var client = peer
        for hop in hops.reversed() {
            guard IPRange.bytes(hop) != nil else { return client }
            client = hop
            if !isTrusted(hop) { return hop }
        }
        return client
    }

    private func isTrusted(_ address: String) -> Bool {
        trustedProxies.contains { $0.contains(address) }
    }
}
