import NetworkAddresses
import Glibc
import HTTPServer

/// The gate in front of the callback routes: an IP allow-list (after
/// resolving trusted proxies) and a per-source rate limit.
package struct AccessPolicy: Sendable {
    package let allow: [IPRange]
    package let source: SourceAddress
    package let limiter: RateLimiter?

    /// `ipv6Prefix`: the rate limit counts IPv6 sources by network of this
    /// many bits (IPv4 by address).
    package init(allow: [IPRange], trustedProxies: [IPRange], ratePerSecond: Double, burst: Int, ipv6Prefix: Int = 64) {
        self.allow = allow
        self.source = SourceAddress(trustedProxies: trustedProxies)
        self.limiter = ratePerSecond > 0
            ? RateLimiter(ratePerSecond: ratePerSecond, burst: burst, ipv6Prefix: ipv6Prefix) : nil
    }

    /// True when there is nothing to check.
    package var isOpen: Bool { allow.isEmpty && limiter == nil }

    /// `nil` to let the request through, else the refusal to send.
    package func check(_ request: HTTPRequest) -> HTTPResponse? {
        let client = source.client(of: request) ?? ""
        if !allow.isEmpty && !allow.contains(where: { $0.contains(client) }) {
            return .error(.forbidden, code: "source_not_allowed", message: "this address may not post callbacks here")
        }
        if let limiter, !limiter.allow(client, at: .nanoseconds(MonotonicClock.nanoseconds())) {
            var refusal = HTTPResponse.error(.tooManyRequests, code: "rate_limited", message: "too many requests; retry later")
            refusal.headers.append(("Retry-After", "1"))
            return refusal
        }
        return nil
    }

}
