import Synchronization

/// A token bucket per source address: `ratePerSecond` sustained, `burst`
/// at once. Memory is bounded: when too many sources are tracked, the
/// ones whose buckets have refilled are forgotten (they lose nothing).
public final class RateLimiter: Sendable {
    public let ratePerSecond: Double
    public let burst: Double
    private let maxTracked: Int
    private let buckets = Mutex<[String: Bucket]>([:])

    private struct Bucket {
        var tokens: Double
        var updated: Double
    }

    public init(ratePerSecond: Double, burst: Int, maxTracked: Int = 100_000) {
        self.ratePerSecond = ratePerSecond
        self.burst = Double(max(1, burst))
        self.maxTracked = maxTracked
    }

    /// Takes one token for `source` at time `now` (seconds); false when empty.
    public func allow(_ source: String, now: Double) -> Bool {
        buckets.withLock { buckets in
            var bucket = buckets[source] ?? Bucket(tokens: burst, updated: now)
            bucket.tokens = min(burst, bucket.tokens + max(0, now - bucket.updated) * ratePerSecond)
            bucket.updated = now
            let allowed = bucket.tokens >= 1
            if allowed { bucket.tokens -= 1 }
            buckets[source] = bucket
            if buckets.count > maxTracked {
                buckets = buckets.filter { $0.value.tokens + (now - $0.value.updated) * ratePerSecond < burst }
            }
            return allowed
        }
    }
}
