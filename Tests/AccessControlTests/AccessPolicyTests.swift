import Testing
import NetworkAddresses
@testable import AccessControl
@testable import HTTPServer

func request(from peer: String, forwardedFor: [String] = []) -> HTTPRequest {
    HTTPRequest(method: .post, path: "/trustpay/payment",
                headers: HTTPHeaders(forwardedFor.map { ("X-Forwarded-For", $0) }),
                remoteAddress: SocketAddress(host: peer, port: 40000))
}

@Suite struct SourceAddressTests {
    let source = SourceAddress(trustedProxies: [IPRange("10.0.0.0/8")!, IPRange("::1")!])

    @Test func untrustedPeersAreTheClientWhateverTheyClaim() {
        #expect(source.client(of: request(from: "203.0.113.9", forwardedFor: ["198.51.100.1"])) == "203.0.113.9")
    }

    @Test func trustedProxyNamesTheClientFromTheRight() {
        #expect(source.client(of: request(from: "10.1.2.3", forwardedFor: ["198.51.100.7"])) == "198.51.100.7")
        // A chain of trusted proxies is skipped; the left-most spoofable part is never reached.
        #expect(source.client(of: request(from: "10.1.2.3", forwardedFor: ["6.6.6.6, 198.51.100.7, 10.9.9.9"]))
            == "198.51.100.7")
        #expect(source.client(of: request(from: "::1", forwardedFor: ["6.6.6.6", "198.51.100.8"])) == "198.51.100.8")
    }

    @Test func garbageInTheHeaderStopsTheWalk() {
        #expect(source.client(of: request(from: "10.1.2.3", forwardedFor: ["not-an-ip"])) == "10.1.2.3")
        #expect(source.client(of: request(from: "10.1.2.3", forwardedFor: [])) == "10.1.2.3")
    }
}

@Suite struct AccessPolicyTests {
    @Test func allowListAdmitsOnlyItsRanges() {
        let policy = AccessPolicy(allow: [IPRange("192.0.2.0/24")!], trustedProxies: [IPRange("127.0.0.1")!],
                                  ratePerSecond: 0, burst: 0)
        #expect(policy.check(request(from: "192.0.2.44")) == nil)
        #expect(policy.check(request(from: "198.51.100.1"))?.status.code == 403)
        // Behind the trusted proxy, the forwarded address is what is checked.
        #expect(policy.check(request(from: "127.0.0.1", forwardedFor: ["192.0.2.5"])) == nil)
        #expect(policy.check(request(from: "127.0.0.1", forwardedFor: ["198.51.100.1"]))?.status.code == 403)
        // The same header from an untrusted peer changes nothing.
        #expect(policy.check(request(from: "198.51.100.1", forwardedFor: ["192.0.2.5"]))?.status.code == 403)
    }

    @Test func rateLimitAnswers429PerSource() {
        let policy = AccessPolicy(allow: [], trustedProxies: [], ratePerSecond: 1, burst: 3)
        let answers = (0..<5).map { _ in policy.check(request(from: "192.0.2.1"))?.status.code ?? 200 }
        #expect(answers == [200, 200, 200, 429, 429])
        #expect(policy.check(request(from: "192.0.2.2")) == nil)
        let refused = policy.check(request(from: "192.0.2.1"))
        #expect(refused?.headers.contains { $0.name == "Retry-After" } == true)
    }

    @Test func bucketsRefillAtTheRate() {
        let limiter = RateLimiter(ratePerSecond: 2, burst: 1)
        #expect(limiter.allow("a", at: .seconds(100)))
        #expect(!limiter.allow("a", at: .milliseconds(100_100)))
        #expect(limiter.allow("a", at: .milliseconds(100_600)))
    }

    /// New sources arrive far faster than buckets refill (1,000 in one
    /// second; a token takes 1,000 s), so only eviction can keep the table
    /// small. Failed before eviction of the least recently seen existed: the
    /// table grew to 1,000 (only refilled buckets were forgotten).
    @Test func trackedSourcesAreBoundedAndTheOldestAreForgotten() {
        let limiter = RateLimiter(ratePerSecond: 0.001, burst: 1, maxTracked: 10)
        var largest = 0
        for i in 0..<1000 {
            #expect(limiter.allow(Self.address(i), at: .milliseconds(i)), "source \(i)")
            largest = max(largest, limiter.trackedCount)
        }
        #expect(largest == 10)
        // The newest source is still remembered: its empty bucket refuses.
        #expect(!limiter.allow(Self.address(999), at: .seconds(1)))
        // The oldest was forgotten: it starts again with a full bucket.
        #expect(limiter.allow(Self.address(0), at: .seconds(1)))
    }

    static func address(_ i: Int) -> String { "10.0.\(i / 256).\(i % 256)" }

    @Test func guardedRoutesAnswerWithTheRefusal() async {
        var router = Router()
        router.post("/cb") { _ in HTTPResponse(status: .ok) }
        router.add(.get, "/open", .immediate { _ in HTTPResponse(status: .ok) })
        let policy = AccessPolicy(allow: [IPRange("192.0.2.0/24")!], trustedProxies: [], ratePerSecond: 0, burst: 0)
        router.guardRoutes(["/cb"]) { policy.check($0) }
        guard case .found(.async(let guarded)) = router.resolve(.post, "/cb"),
              case .found(.immediate(let open)) = router.resolve(.get, "/open")
        else {
            Issue.record("routes missing")
            return
        }
        #expect(await guarded(request(from: "198.51.100.1")).status.code == 403)
        #expect(await guarded(request(from: "192.0.2.1")).status.code == 200)
        #expect(open(request(from: "198.51.100.1")).status.code == 200)
    }
}

@Suite struct RateLimiterGroupingTests {
    /// One host usually holds a whole /64: a fresh address per request must
    /// not buy a fresh bucket. Failed before the fix: every address of the
    /// /64 got its own burst.
    @Test func ipv6SourcesShareABucketPerSlash64() {
        let limiter = RateLimiter(ratePerSecond: 0.001, burst: 2)
        #expect(limiter.allow("2001:db8:1:2::1", at: .zero))
        #expect(limiter.allow("2001:db8:1:2:ffff:ffff:ffff:ffff", at: .zero))
        #expect(!limiter.allow("2001:db8:1:2:abcd::9", at: .zero), "a third address of the same /64 shares its bucket")
        #expect(limiter.allow("2001:db8:1:3::1", at: .zero), "the next /64 is another source")
        // IPv4 stays per address, whether written plain or IPv4-mapped.
        #expect(limiter.allow("192.0.2.1", at: .zero))
        #expect(limiter.allow("192.0.2.1", at: .zero))
        #expect(!limiter.allow("::ffff:192.0.2.1", at: .zero))
        #expect(limiter.allow("192.0.2.2", at: .zero))
    }

    @Test func thePrefixIsConfigurable() {
        let wide = RateLimiter(ratePerSecond: 0.001, burst: 1, ipv6Prefix: 48)
        #expect(wide.allow("2001:db8:1:2::1", at: .zero))
        #expect(!wide.allow("2001:db8:1:ffff::1", at: .zero), "the same /48")
        let exact = RateLimiter(ratePerSecond: 0.001, burst: 1, ipv6Prefix: 128)
        #expect(exact.allow("2001:db8::1", at: .zero))
        #expect(exact.allow("2001:db8::2", at: .zero))
        #expect(!exact.allow("2001:db8::1", at: .zero))
    }

    @Test func thePolicyGroupsTheClientAddress() {
        let policy = AccessPolicy(allow: [], trustedProxies: [], ratePerSecond: 1, burst: 1)
        #expect(policy.check(request(from: "2001:db8:5:6::1")) == nil)
        #expect(policy.check(request(from: "2001:db8:5:6::2"))?.status.code == 429)
    }

    /// A flood of new sources costs one eviction step per new source,
    /// however many are tracked: the least recently seen is at the end of a
    /// list, never searched for. Failed before the fix: each eviction
    /// filtered and sorted the whole table.
    @Test func evictionIsConstantTimeAndForgetsTheLeastRecentlySeen() {
        let limiter = RateLimiter(ratePerSecond: 0.001, burst: 1, maxTracked: 1000)
        for i in 0..<1000 { _ = limiter.allow(AccessPolicyTests.address(i), at: .zero) }
        #expect(limiter.evictionSteps == 0)
        // Source 0 is seen again, so source 1 is now the least recent.
        #expect(!limiter.allow(AccessPolicyTests.address(0), at: .zero))
        for i in 1000..<6000 { _ = limiter.allow("2001:db8:\(i)::1", at: .zero) }
        #expect(limiter.trackedCount == 1000)
        #expect(limiter.evictionSteps == 5000, "one step per eviction")
        #expect(limiter.allow(AccessPolicyTests.address(0), at: .zero), "forgotten after 5,000 newer sources")

        let small = RateLimiter(ratePerSecond: 0.001, burst: 1, maxTracked: 3)
        for source in ["a", "b", "c"] { _ = small.allow(source, at: .zero) }
        _ = small.allow("a", at: .zero)  // a is recent again
        _ = small.allow("d", at: .zero)  // evicts b, the least recently seen
        #expect(!small.allow("a", at: .zero), "a is still tracked, its bucket empty")
        #expect(!small.allow("c", at: .zero), "so is c")
        #expect(small.allow("b", at: .zero), "b was forgotten: a full bucket again")
    }
}
