import Testing
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
        #expect(limiter.allow("a", now: 100))
        #expect(!limiter.allow("a", now: 100.1))
        #expect(limiter.allow("a", now: 100.6))
    }

    /// New sources arrive far faster than buckets refill (1,000 in one
    /// second; a token takes 1,000 s), so only eviction can keep the table
    /// small. Failed before eviction of the least recently seen existed: the
    /// table grew to 1,000 (only refilled buckets were forgotten).
    @Test func trackedSourcesAreBoundedAndTheOldestAreForgotten() {
        let limiter = RateLimiter(ratePerSecond: 0.001, burst: 1, maxTracked: 10)
        var largest = 0
        for i in 0..<1000 {
            #expect(limiter.allow(Self.address(i), now: Double(i) / 1000), "source \(i)")
            largest = max(largest, limiter.trackedCount)
        }
        #expect(largest == 10)
        // The newest source is still remembered: its empty bucket refuses.
        #expect(!limiter.allow(Self.address(999), now: 1))
        // The oldest was forgotten: it starts again with a full bucket.
        #expect(limiter.allow(Self.address(0), now: 1))
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
