import NetworkAddresses
import Durations
import Locking

/// A token bucket per source: `ratePerSecond` sustained, `burst` at once.
///
/// A source is an IPv4 address, or an IPv6 network of `ipv6Prefix` bits
/// (`/64` by default): one host is commonly given a whole /64, so counting
/// single IPv6 addresses would let it take a fresh bucket per request.
///
/// Memory is bounded by `maxTracked`: past it, the least recently seen
/// source is forgotten (it starts again with a full burst). The buckets
/// form a list in order of use, so finding that source and forgetting it
/// costs the same however many are tracked: a flood of new addresses costs
/// one eviction per request, never a scan of the table.
package final class RateLimiter: Sendable {
    package let ratePerSecond: Double
    package let burst: Double
    package let ipv6Prefix: Int
    private let maxTracked: Int
    private let table: Locked<Table>

    package init(ratePerSecond: Double, burst: Int, ipv6Prefix: Int = 64, maxTracked: Int = 100_000) {
        self.ratePerSecond = ratePerSecond
        self.burst = Double(max(1, burst))
        self.ipv6Prefix = min(128, max(0, ipv6Prefix))
        self.maxTracked = max(1, maxTracked)
        table = Locked(Table())
    }

    /// Takes one token for `source` (an address, as `SourceAddress` gives
    /// it) at `time` on a monotonic clock (from any fixed origin); false when
    /// its bucket is empty.
    package func allow(_ source: String, at time: Duration) -> Bool {
        let now = time.seconds
        let key = SourceKey(source, ipv6Prefix: ipv6Prefix)
        return table.withLock { table in
            let slot: Int
            if let found = table.slots[key] {
                slot = found
                table.unlink(slot)
            } else {
                if table.slots.count >= maxTracked { table.evictLeastRecent() }
                slot = table.add(key, tokens: burst, now: now)
            }
            table.pushFront(slot)
            var bucket = table.nodes[slot]
            bucket.tokens = min(burst, bucket.tokens + max(0, now - bucket.updated) * ratePerSecond)
            bucket.updated = now
            let allowed = bucket.tokens >= 1
            if allowed { bucket.tokens -= 1 }
            table.nodes[slot] = bucket
            return allowed
        }
    }

    /// How many sources are remembered now (for tests of the bound).
    var trackedCount: Int { table.withLock { $0.slots.count } }

    /// Buckets looked at to evict, in all (for tests that eviction is constant-time).
    var evictionSteps: Int { table.withLock { $0.evictionSteps } }
}

/// What a bucket is kept for: an IPv4 address, an IPv6 network, or (for
/// anything that is not an address) the text itself.
enum SourceKey: Hashable {
    case network(UInt64, UInt64)
    case text(String)

    init(_ source: String, ipv6Prefix: Int) {
        guard let bytes = IPRange.bytes(source) else {
            self = .text(source)
            return
        }
        let isV4 = bytes[0..<10].allSatisfy { $0 == 0 } && bytes[10] == 0xFF && bytes[11] == 0xFF
        let kept = isV4 ? 128 : ipv6Prefix
        var high: UInt64 = 0
        var low: UInt64 = 0
        for index in 0..<8 {
            high = high << 8 | UInt64(bytes[index])
            low = low << 8 | UInt64(bytes[index + 8])
        }
        let highMask: UInt64 = kept >= 64 ? .max : kept == 0 ? 0 : ~(UInt64.max >> UInt64(kept))
        let lowMask: UInt64 = kept >= 128 ? .max : kept <= 64 ? 0 : ~(UInt64.max >> UInt64(kept - 64))
        self = .network(high & highMask, low & lowMask)
    }
}

/// The buckets in an array, linked most recent first; free slots are reused.
struct Table {
    struct Node {
        var key: SourceKey
        var tokens: Double
        var updated: Double
        var newer = -1
        var older = -1
    }

    var slots: [SourceKey: Int] = [:]
    var nodes: [Node] = []
    var free: [Int] = []
    var newest = -1
    var oldest = -1
    var evictionSteps = 0

    mutating func add(_ key: SourceKey, tokens: Double, now: Double) -> Int {
        let node = Node(key: key, tokens: tokens, updated: now)
        let slot: Int
        if let reused = free.popLast() {
            nodes[reused] = node
            slot = reused
        } else {
            nodes.append(node)
            slot = nodes.count - 1
        }
        slots[key] = slot
        return slot
    }

    mutating func unlink(_ slot: Int) {
        let (newer, older) = (nodes[slot].newer, nodes[slot].older)
        if newer >= 0 { nodes[newer].older = older } else { newest = older }
        if older >= 0 { nodes[older].newer = newer } else { oldest = newer }
        nodes[slot].newer = -1
        nodes[slot].older = -1
    }

    mutating func pushFront(_ slot: Int) {
        nodes[slot].older = newest
        nodes[slot].newer = -1
        if newest >= 0 { nodes[newest].newer = slot }
        newest = slot
        if oldest < 0 { oldest = slot }
    }

    mutating func evictLeastRecent() {
        guard oldest >= 0 else { return }
        let slot = oldest
        evictionSteps += 1
        unlink(slot)
        slots[nodes[slot].key] = nil
        nodes[slot].key = .text("")
        free.append(slot)
    }
}
