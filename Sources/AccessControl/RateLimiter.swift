import Synchronization

/// A token bucket per source address: `ratePerSecond` sustained, `burst`
/// at once. Memory is bounded by `maxTracked`: past it, the sources whose
/// buckets have refilled are forgotten first (they lose nothing), then the
/// least recently seen, so a flood of new addresses faster than the refill
/// cannot grow the table (a forgotten source starts again with a full burst).
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
            if buckets.count > maxTracked { evict(from: &buckets, keeping: source, now: now) }
            return allowed
        }
    }

    /// How many sources are remembered now (for tests of the bound).
    var trackedCount: Int { buckets.withLock { $0.count } }

    private func evict(from buckets: inout [String: Bucket], keeping current: String, now: Double) {
        buckets = buckets.filter { $0.value.tokens + (now - $0.value.updated) * ratePerSecond < burst }
        guard buckets.count > maxTracked else { return }
        // Down to 7/8 of the bound, so the sort runs once per maxTracked/8
        // new sources rather than on every one.
        let keep = max(1, maxTracked - maxTracked / 8)
        let oldest = buckets.filter { $0.key != current }.sorted { $0.value.updated < $1.value.updated }
        for (key, _) in oldest.prefix(buckets.count - keep) { buckets[key] = nil }
    }
}
