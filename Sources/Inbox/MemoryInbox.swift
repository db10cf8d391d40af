import Durations
import Foundation
import Locking

/// An ``IdempotencyStore`` (and ``InboxAdministration``) in memory: for tests, development, and single
/// instances that accept losing the inbox on restart (TrustPay redelivers
/// what was not acknowledged, but not what was).
///
/// Bounded: completed events are forgotten `retention` after completion, and
/// the oldest completed ones first when `capacity` is reached; if every
/// stored event is still pending, in progress or dead, recording throws
/// ``StoreError/full(capacity:)`` (the pipeline answers `503`). A forgotten
/// event's key is free again, so keep `retention` longer than TrustPay's
/// redelivery window.
public final class MemoryInbox: InboxAdministration {
    public let capacity: Int
    public let retention: Duration
    private let storage = Locked(Storage())

    private struct Entry {
        var event: InboxEvent
        let sequence: Int
        var history = EventHistory()
    }

    private struct LastStatus {
        var status: Int
        var rank: Int?
        var events: Int
        /// The order's first and latest events' receipt times, for reconciliation.
        var firstReceived: Date
        var lastReceived: Date
    }

    /// An order and one of its statuses: how a reconciled event and a
    /// callback are matched (see ``IdempotencyStore/record(_:lease:now:)``).
    private struct OrderStatusSlot: Hashable {
        var order: OrderReference
        var status: Int
    }

    private struct Storage {
        var entries: [String: Entry] = [:]
        var idsByKey: [IdempotencyKey: String] = [:]
        var orders: [OrderReference: LastStatus] = [:]
        /// Every (order, status) stored, with how many events hold it and
        /// the order-query events among them.
        var slots: [OrderStatusSlot: (events: Int, fromQueries: Set<String>)] = [:]
        var expected: [OrderReference: ExpectedOrder] = [:]
        var queryLeases: [OrderReference: (owner: String, until: Date)] = [:]
        var nextSequence = 0
        var nextSweep = Date.distantPast
    }

    public init(capacity: Int = 100_000, retention: Duration = .seconds(7 * 24 * 3600)) {
        precondition(capacity > 0, "a MemoryInbox needs room for at least one event")
        self.capacity = capacity
        self.retention = retention
    }

    /// How many events are stored.
    public var count: Int { storage.withLock { $0.entries.count } }

    public func record(_ new: NewInboxEvent, lease: Lease?, now: Date) async throws -> RecordOutcome {
        try storage.withLock { storage in
            let slot = OrderStatusSlot(order: new.order, status: new.status)
            if new.source == .orderQuery, storage.slots[slot] != nil, let first = firstEvent(in: slot, storage) {
                return .duplicate(first)
            }
            if let id = storage.idsByKey[new.key], var existing = storage.entries[id] {
                if existing.event.contentHash == new.contentHash || existing.event.source != new.source {
                    return .duplicate(existing.event)
                }
                existing.event.conflicts += 1
                existing.history.keep(
                    ConflictingCopy(contentHash: new.contentHash, rawBody: new.rawBody, receivedAt: new.receivedAt))
                storage.entries[id] = existing
                return .conflict(existing.event)
            }
            if new.source == .callback, let ids = storage.slots[slot]?.fromQueries, !ids.isEmpty,
                let reconciled = ids.compactMap({ storage.entries[$0] }).min(by: { $0.sequence < $1.sequence })
            {
                return .duplicate(reconciled.event)
            }
            try makeRoom(&storage, now: now)
            let previous = storage.orders[new.order]
            let isStale =
                if let rank = new.statusRank, let lastRank = previous?.rank { rank < lastRank } else { false }
            var event = InboxEvent(
                id: new.id, key: new.key, contentHash: new.contentHash, kind: new.kind, merchantID: new.merchantID,
                orderType: new.orderType, orderNo: new.orderNo, status: new.status, order: new.order,
                previousStatus: previous?.status, isStale: isStale, source: new.source, rawBody: new.rawBody,
                receivedAt: new.receivedAt)
            if let lease {
                event.state = .processing(owner: lease.owner, leaseUntil: now.addingTimeInterval(lease.duration.seconds))
                event.attempts = 1
            }
            var last =
                previous
                ?? LastStatus(
                    status: new.status, rank: new.statusRank, events: 0, firstReceived: new.receivedAt,
                    lastReceived: new.receivedAt)
            if !isStale {
                last.status = new.status
                last.rank = new.statusRank ?? previous?.rank
            }
            last.events += 1
            last.firstReceived = min(last.firstReceived, new.receivedAt)
            last.lastReceived = max(last.lastReceived, new.receivedAt)
            var held = storage.slots[slot] ?? (0, [])
            held.events += 1
            if new.source == .orderQuery { held.fromQueries.insert(event.id) }
            storage.slots[slot] = held
            storage.orders[new.order] = last
            storage.entries[event.id] = Entry(event: event, sequence: storage.nextSequence)
            storage.nextSequence += 1
            storage.idsByKey[event.key] = event.id
            return .recorded(event)
        }
    }

    public func claim(id: String, owner: String, leaseDuration: Duration, now: Date) async throws -> InboxEvent? {
        storage.withLock { storage in
            guard var entry = storage.entries[id] else { return nil }
            switch entry.event.state {
            case .pending, .waitingRetry: break
            case .processing(_, let until) where until <= now: break
            default: return nil
            }
            entry.event.state = .processing(owner: owner, leaseUntil: now.addingTimeInterval(leaseDuration.seconds))
            entry.event.attempts += 1
            storage.entries[id] = entry
            return entry.event
        }
    }

    public func claimDue(owner: String, limit: Int, leaseDuration: Duration, now: Date) async throws -> [InboxEvent] {
        storage.withLock { storage in
            // Oldest first, and only the oldest unfinished event of each order.
            var heldOrders = Set<OrderReference>()
            var due: [Entry] = []
            let unfinished = storage.entries.values.filter { $0.event.state.isUnfinished }
            for entry in unfinished.sorted(by: { $0.sequence < $1.sequence }) where due.count < limit {
                if heldOrders.insert(entry.event.order).inserted, entry.event.state.isClaimable(at: now) {
                    due.append(entry)
                }
            }
            let until = now.addingTimeInterval(leaseDuration.seconds)
            return due.map { entry in
                var entry = entry
                entry.event.state = .processing(owner: owner, leaseUntil: until)
                entry.event.attempts += 1
                storage.entries[entry.event.id] = entry
                return entry.event
            }
        }
    }

    public func complete(id: String, owner: String, attempt: HandlerAttempt) async throws -> Bool {
        finish(id: id, owner: owner, attempt: attempt) { event in event.state = .completed(at: attempt.endedAt) }
    }

    public func fail(id: String, owner: String, attempt: HandlerAttempt, retryAt: Date) async throws -> Bool {
        finish(id: id, owner: owner, attempt: attempt) { event in
            event.state = .waitingRetry(nextAttemptAt: retryAt)
            if let error = attempt.error { event.lastError = error }
        }
    }

    public func deadLetter(id: String, owner: String, attempt: HandlerAttempt) async throws -> Bool {
        finish(id: id, owner: owner, attempt: attempt) { event in
            event.state = .dead(at: attempt.endedAt)
            if let error = attempt.error { event.lastError = error }
        }
    }

    /// Changes the event for the lease holder; keeps the attempt either way.
    private func finish(id: String, owner: String, attempt: HandlerAttempt, _ change: (inout InboxEvent) -> Void) -> Bool {
        storage.withLock { storage in
            guard var entry = storage.entries[id] else { return false }
            guard case .processing(let holder, _) = entry.event.state, holder == owner else {
                entry.history.keep(attempt.leaseLost())
                storage.entries[id] = entry
                return false
            }
            change(&entry.event)
            entry.history.keep(attempt)
            storage.entries[id] = entry
            return true
        }
    }

    public func history(id: String) async throws -> EventHistory {
        storage.withLock { $0.entries[id]?.history ?? EventHistory() }
    }

    public func event(id: String) async throws -> InboxEvent? {
        storage.withLock { $0.entries[id]?.event }
    }

    public func list(_ filter: EventFilter) async throws -> [InboxEvent] {
        storage.withLock { storage in
            let matching = storage.entries.values.filter { filter.matches($0.event) }
                .sorted { filter.newestFirst ? $0.sequence > $1.sequence : $0.sequence < $1.sequence }
            return matching.dropFirst(max(0, filter.offset ?? 0)).prefix(max(0, filter.limit ?? Int.max)).map(\.event)
        }
    }

    public func replay(id: String, now: Date) async throws -> InboxEvent? {
        storage.withLock { storage in
            guard var entry = storage.entries[id] else { return nil }
            if case .processing(_, let until) = entry.event.state, until > now { return nil }
            entry.event.state = .pending
            entry.event.attempts = 0
            storage.entries[id] = entry
            return entry.event
        }
    }

    public func purge(_ filter: EventFilter) async throws -> Int {
        storage.withLock { storage in
            let now = Date()
            let doomed = storage.entries.values.filter { entry in
                if case .processing(_, let until) = entry.event.state, until > now { return false }
                return filter.matches(entry.event)
            }
            .sorted { $0.sequence < $1.sequence }
            .prefix(filter.limit ?? Int.max)
            for entry in doomed { remove(entry.event, from: &storage) }
            return doomed.count
        }
    }

    public func prune(completedBefore date: Date) async throws -> Int {
        storage.withLock { storage in prune(&storage, completedBefore: date) }
    }

    public func checkAvailability() async throws {}

    // MARK: bounds

    private func makeRoom(_ storage: inout Storage, now: Date) throws {
        if now >= storage.nextSweep || storage.entries.count >= capacity {
            prune(&storage, completedBefore: now.addingTimeInterval(-retention.seconds))
            storage.nextSweep = now.addingTimeInterval(min(60, retention.seconds))
        }
        guard storage.entries.count >= capacity else { return }
        let completed = storage.entries.values.compactMap { entry -> (Date, InboxEvent)? in
            if case .completed(let at) = entry.event.state { (at, entry.event) } else { nil }
        }
        .sorted { $0.0 < $1.0 }
        for (_, event) in completed.prefix(storage.entries.count - capacity + 1) { remove(event, from: &storage) }
        if storage.entries.count >= capacity { throw StoreError.full(capacity: capacity) }
    }

    @discardableResult
    private func prune(_ storage: inout Storage, completedBefore date: Date) -> Int {
        let expired = storage.entries.values.filter { entry in
            if case .completed(let at) = entry.event.state { at < date } else { false }
        }
        for entry in expired { remove(entry.event, from: &storage) }
        return expired.count
    }

    private func remove(_ event: InboxEvent, from storage: inout Storage) {
        storage.entries[event.id] = nil
        storage.idsByKey[event.key] = nil
        if var last = storage.orders[event.order] {
            // The order's last status is forgotten with its last event.
            last.events -= 1
            storage.orders[event.order] = last.events > 0 ? last : nil
        }
        let slot = OrderStatusSlot(order: event.order, status: event.status)
        if var held = storage.slots[slot] {
            held.events -= 1
            held.fromQueries.remove(event.id)
            storage.slots[slot] = held.events > 0 ? held : nil
        }
    }

    /// The first stored event of an order with a status (a linear search,
    /// done only when an order query repeats a stored status).
    private func firstEvent(in slot: OrderStatusSlot, _ storage: Storage) -> InboxEvent? {
        storage.entries.values.filter { $0.event.order == slot.order && $0.event.status == slot.status }
            .min { $0.sequence < $1.sequence }?.event
    }
}

// MARK: - Reconciliation

extension MemoryInbox: ReconciliationStore {
    @discardableResult
    public func expect(_ order: ExpectedOrder) async throws -> Bool {
        storage.withLock { storage in
            guard storage.expected[order.order] == nil else { return false }
            storage.expected[order.order] = order
            return true
        }
    }

    public func reconciliationCandidates(
        finalStatuses: Set<Int>, quietSince: Date, notBefore: Date, limit: Int
    ) async throws -> [ReconciliationCandidate] {
        storage.withLock { storage in
            var candidates: [ReconciliationCandidate] = []
            var latestEvent: [OrderReference: InboxEvent] = [:]
            for entry in storage.entries.values where entry.event.kind == .payment {
                if let seen = latestEvent[entry.event.order], seen.receivedAt >= entry.event.receivedAt { continue }
                latestEvent[entry.event.order] = entry.event
            }
            for (order, last) in storage.orders {
                guard let event = latestEvent[order], let type = event.orderType,
                    !finalStatuses.contains(last.status), last.lastReceived < quietSince,
                    last.firstReceived >= notBefore
                else { continue }
                candidates.append(
                    ReconciliationCandidate(
                        merchantID: event.merchantID, orderType: type, orderNo: event.orderNo,
                        lastStatus: last.status, reason: .notFinal, since: last.firstReceived))
            }
            for (order, expected) in storage.expected
            where storage.orders[order] == nil && expected.expectedAt < quietSince && expected.expectedAt >= notBefore {
                candidates.append(
                    ReconciliationCandidate(
                        merchantID: expected.merchantID, orderType: expected.orderType, orderNo: expected.orderNo,
                        lastStatus: nil, reason: .expected, since: expected.expectedAt))
            }
            return Array(candidates.sorted { ($0.since, $0.orderNo) < ($1.since, $1.orderNo) }.prefix(max(0, limit)))
        }
    }

    public func forgetReconciliation(expectedBefore: Date, leasesEndedBefore: Date) async throws -> Int {
        storage.withLock { storage in
            let expected = storage.expected.filter { $0.value.expectedAt < expectedBefore }.map(\.key)
            let leases = storage.queryLeases.filter { $0.value.until < leasesEndedBefore }.map(\.key)
            for order in expected { storage.expected[order] = nil }
            for order in leases { storage.queryLeases[order] = nil }
            return expected.count + leases.count
        }
    }

    public func takeQueryLease(order: OrderReference, owner: String, until: Date, now: Date) async throws -> Bool {
        storage.withLock { storage in
            if let held = storage.queryLeases[order], held.owner != owner, held.until > now { return false }
            storage.queryLeases[order] = (owner, until)
            return true
        }
    }
}

extension EventHistory {
    /// Appends `attempt`, dropping the oldest beyond ``attemptsKept``.
    mutating func keep(_ attempt: HandlerAttempt) {
        attempts.append(attempt)
        if attempts.count > Self.attemptsKept { attempts.removeFirst(attempts.count - Self.attemptsKept) }
    }

    /// Appends `copy` unless one with its hash is kept or ``copiesKept`` are.
    mutating func keep(_ copy: ConflictingCopy) {
        guard conflictingCopies.count < Self.copiesKept,
            !conflictingCopies.contains(where: { $0.contentHash == copy.contentHash })
        else { return }
        conflictingCopies.append(copy)
    }
}
