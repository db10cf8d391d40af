import Durations
import Foundation
import Locking

/// An ``IdempotencyStore`` (and ``InboxAdministration``) in memory: for tests, development, and single
/// instances that accept losing the inbox on restart (TrustPay redelivers
/// what was not acknowledged, but not what was).
///
/// Bounded: the oldest completed events are forgotten first when `capacity`
/// is reached; if every stored event is still pending, in progress or dead,
/// recording throws ``StoreError/full(capacity:)`` (the pipeline answers
/// `503`). Completed events also go when the webhook server's retention
/// sweep prunes them (`keepCompleted`), as in every store. A forgotten
/// event's key is free again: size both beyond TrustPay's redelivery window.
/// Its tables are sized for `capacity` events (up to ``reservationLimit``)
/// when it is made, so that no callback waits while one grows: address
/// space until events fill it.
///
/// The handlers' path (record, claim, complete, fail, dead-letter, replay)
/// costs a few hash lookups and O(log n) heap steps whatever the number of
/// events stored: each order keeps its unfinished events in receipt order
/// and only the first may be claimed; those heads wait in a queue ordered by
/// receipt; leases and retry times wait in a queue by time and join the heads
/// when due; completed events wait in a queue by completion time for the
/// retention sweep and the capacity eviction. Nothing is sorted on a claim.
/// The queues are checked when taken (an entry may be out of date) and are
/// rid of out-of-date entries in bulk before those outnumber the events.
public final class MemoryInbox: InboxAdministration {
    public let capacity: Int
    private let storage = Locked(Storage())

    private struct Entry {
        var event: InboxEvent
        let sequence: Int
        /// The event's id, hashed once (see ``HashedText``).
        let id: HashedText
        var history = EventHistory()
        /// The time this event waits for in `Storage.timed`, if it does
        /// (at most one live timed entry per event).
        var timedUntil: Date?
        /// Whether it is in `Storage.heads` (at most once there).
        var queued = false

        var ticket: Ticket { Ticket(sequence: sequence, id: id) }
    }

    /// An event's place in receipt order (sequences are unique).
    private struct Ticket: Comparable {
        let sequence: Int
        let id: HashedText
        static func < (a: Ticket, b: Ticket) -> Bool { a.sequence < b.sequence }
        static func == (a: Ticket, b: Ticket) -> Bool { a.sequence == b.sequence }
    }

    /// An event and a time: its lease end or retry time, or its completion.
    private struct Timed: Comparable {
        let at: Date
        let ticket: Ticket
        static func < (a: Timed, b: Timed) -> Bool { (a.at, a.ticket.sequence) < (b.at, b.ticket.sequence) }
        static func == (a: Timed, b: Timed) -> Bool { a.at == b.at && a.ticket == b.ticket }
    }

    private struct OrderState {
        /// The last status seen, unless the event carrying it was stale.
        var status: Int
        var rank: Int?
        /// Events of the order stored; the order is forgotten with its last.
        var events: Int
        /// The order's first and latest events' receipt times, for reconciliation.
        var firstReceived: Date
        var lastReceived: Date
        /// Pending, processing or waiting-to-retry events, oldest first:
        /// only the first may be claimed.
        var unfinished: [Ticket] = []

        /// Forgets one of its events: out of the unfinished ones, one event
        /// fewer. Returns the event to offer, if `ticket` was the first
        /// unfinished one and another follows.
        mutating func forget(_ ticket: Ticket) -> Ticket? {
            events -= 1
            guard let index = unfinished.firstIndex(of: ticket) else { return nil }
            unfinished.remove(at: index)
            return index == 0 ? unfinished.first : nil
        }
    }

    /// An order and one of its statuses: how a reconciled event and a
    /// callback are matched (see ``IdempotencyStore/record(_:lease:now:)``).
    private struct OrderStatusSlot: Hashable {
        var order: OrderReference
        var status: Int
    }

    /// The events holding an (order, status), oldest first, and the
    /// order-query events among them.
    private struct SlotHolders {
        var tickets: [Ticket] = []
        var fromQueries: Set<String> = []

        /// Forgets one holder; returns whether none is left.
        mutating func forget(_ ticket: Ticket, id: String) -> Bool {
            if let index = tickets.firstIndex(of: ticket) { tickets.remove(at: index) }
            if !fromQueries.isEmpty { fromQueries.remove(id) }
            return tickets.isEmpty
        }
    }

    private struct Storage {
        var entries: [HashedText: Entry] = [:]
        var idsByKey: [IdempotencyKey: HashedText] = [:]
        var orders: [OrderReference: OrderState] = [:]
        var slots: [OrderStatusSlot: SlotHolders] = [:]
        var expected: [OrderReference: ExpectedOrder] = [:]
        var queryLeases: [OrderReference: (owner: String, until: Date)] = [:]
        /// Every event in receipt order (removed ones until the next tidy):
        /// listings and purges walk it instead of sorting.
        var log: [Ticket] = []
        /// Where the log's live part starts: before it, removed events only.
        var logStart = 0
        /// Orders' first unfinished events that may be claimable, oldest first.
        var heads = MinHeap<Ticket>()
        /// Processing and waiting-to-retry events by lease end or retry
        /// time: they join `heads` when due.
        var timed = MinHeap<Timed>()
        /// Completed events, oldest completion first.
        var completions = MinHeap<Timed>()
        var nextSequence = 0

        func entry(_ ticket: Ticket) -> Entry? {
            guard let entry = entries[ticket.id], entry.sequence == ticket.sequence else { return nil }
            return entry
        }

        /// Changes the entry `ticket` names in place, if it still is that
        /// event: its id hashed once, the entry not copied (a copy retains
        /// and releases its event's strings and its history; ``entry(_:)``
        /// and a write back cost ~3,000 instructions where this costs the
        /// hash: callgrind, BENCHMARKS.md session 11).
        mutating func withEntry<R>(_ ticket: Ticket, _ body: (inout Entry) -> R) -> R? {
            guard let index = entries.index(forKey: ticket.id) else { return nil }
            func apply(_ entry: inout Entry) -> R? { entry.sequence == ticket.sequence ? body(&entry) : nil }
            return apply(&entries.values[index])
        }

        /// Whether `timed` is still its event's wait (not out of date).
        mutating func isCurrent(_ timed: Timed) -> Bool {
            withEntry(timed.ticket) { $0.timedUntil == timed.at } ?? false
        }

        /// Offers `ticket` to the claims (once).
        mutating func offer(_ ticket: Ticket) {
            let offered = withEntry(ticket) { entry in
                guard !entry.queued else { return false }
                entry.queued = true
                return true
            }
            if offered == true { heads.push(ticket) }
        }

        /// Makes the event wait until `until` before it is offered again.
        mutating func wait(_ ticket: Ticket, until: Date) {
            guard let index = entries.index(forKey: ticket.id) else { return }
            wait(at: index, until: until)
        }

        /// ``wait(_:until:)`` for the entry at `index`: the hot paths hash an
        /// event's id once per operation (each hash of a String key costs
        /// about a thousand instructions, callgrind, BENCHMARKS.md session 9).
        mutating func wait(at index: Dictionary<HashedText, Entry>.Index, until: Date) {
            // Read and changed within one access: a read of `values[index]` copies the whole entry.
            func set(_ entry: inout Entry) -> Ticket? {
                guard entry.timedUntil != until else { return nil }
                entry.timedUntil = until
                return entry.ticket
            }
            if let ticket = set(&entries.values[index]) { timed.push(Timed(at: until, ticket: ticket)) }
        }

        /// Leases and retries that have come due join the heads.
        mutating func collectDue(at now: Date) {
            while let next = timed.min, next.at <= now {
                timed.popMin()
                let due = withEntry(next.ticket) { entry in
                    guard entry.timedUntil == next.at else { return false }
                    entry.timedUntil = nil
                    return true
                }
                if due == true { offer(next.ticket) }
            }
        }

        /// Takes `ticket` out of its order's unfinished events (once the
        /// entry's `timedUntil` is cleared); offers the next one if it was
        /// the first. The order is looked up once.
        mutating func settleInOrder(_ ticket: Ticket, order: OrderReference) {
            dropSettledLease(ticket)
            guard let orderIndex = orders.index(forKey: order),
                let index = orders.values[orderIndex].unfinished.firstIndex(of: ticket)
            else { return }
            orders.values[orderIndex].unfinished.remove(at: index)
            if index == 0, let next = orders.values[orderIndex].unfinished.first { offer(next) }
        }

        /// A settled event's lease is usually the earliest in `timed`
        /// (leases are granted in receipt order and mostly end in it): drop
        /// it, and the out-of-date ones it uncovers, now. Left for the
        /// queue's `tidy()`, every callback's lease piled up in `timed` and
        /// the tidy, at 100,000 events, held the lock for tens of ms.
        /// Costs nothing when the event was not the earliest.
        mutating func dropSettledLease(_ ticket: Ticket) {
            guard timed.min?.ticket == ticket else { return }
            timed.popMin()
            while let next = timed.min, !isCurrent(next) { timed.popMin() }
        }

        /// Puts `ticket` back among its order's unfinished events, in
        /// receipt order, and offers it if it is the first.
        mutating func reopen(_ ticket: Ticket, order: OrderReference) {
            entries[ticket.id]?.timedUntil = nil
            guard var state = orders[order] else { return }
            if !state.unfinished.contains(ticket) {
                let index = state.unfinished.firstIndex { $0.sequence > ticket.sequence } ?? state.unfinished.endIndex
                state.unfinished.insert(ticket, at: index)
                orders[order] = state
            }
            if state.unfinished.first == ticket { offer(ticket) }
        }

        /// The completed event `completion` names, if it still is that one
        /// (not replayed, purged or completed again since).
        func completed(_ completion: Timed) -> Entry? {
            guard let entry = entry(completion.ticket), case .completed(let at) = entry.event.state,
                at == completion.at
            else { return nil }
            return entry
        }

        /// Where the completed event `completion` names is, if it still is
        /// that one: ``completed(_:)`` without copying the entry, its id
        /// hashed once.
        func completedIndex(_ completion: Timed) -> Dictionary<HashedText, Entry>.Index? {
            guard let index = entries.index(forKey: completion.ticket.id) else { return nil }
            let entry = entries.values[index]
            guard entry.sequence == completion.ticket.sequence, case .completed(let at) = entry.event.state,
                at == completion.at
            else { return nil }
            return index
        }

        /// How far past twice the events a queue may grow before `tidy()`,
        /// and how many removed events the log's front may hold.
        static let tidySlack = 1024

        /// Drops out-of-date queue entries once they could outnumber the
        /// events: O(n) at most every n changes, so O(1) per change. Each
        /// queue is taken out of `self` while it is filtered, so that the
        /// filter can read the entries without the queue being copied.
        mutating func tidy() {
            let bound = 2 * entries.count + Self.tidySlack
            if log.count - logStart > bound {
                var kept = log
                log = []
                kept.removeSubrange(..<logStart)
                logStart = 0
                kept.removeAll { entry($0) == nil }
                log = kept
            }
            if heads.count > bound {
                var kept = heads
                heads = MinHeap()
                kept.retain { entry($0)?.queued == true }
                heads = kept
            }
            if timed.count > bound {
                var kept = timed
                timed = MinHeap()
                kept.retain { entry($0.ticket)?.timedUntil == $0.at }
                timed = kept
            }
            if completions.count > bound {
                var kept = completions
                completions = MinHeap()
                kept.retain { completed($0) != nil }
                completions = kept
            }
        }

        /// Steps the log's start past removed events, after `removed` was
        /// removed. Evictions remove the oldest completions, mostly the
        /// log's oldest events, so the log sheds them as they go instead of
        /// in a whole-log `tidy()` (which, at 100,000 events, stalled both
        /// loops for over 100 ms); the front is cut off, one move of the
        /// live part, every `tidySlack` events.
        ///
        /// The log's first live place always holds a live event (every
        /// removal ends here, `tidy()` keeps live events only): unless
        /// `removed` was that one, nothing changed at the front and no id
        /// needs hashing.
        mutating func trimLogFront(removed: Ticket) {
            guard logStart < log.count, log[logStart] == removed else { return }
            logStart += 1
            while logStart < log.count, withEntry(log[logStart], { _ in () }) == nil { logStart += 1 }
            if logStart >= Self.tidySlack {
                log.removeSubrange(..<logStart)
                logStart = 0
            }
        }
    }

    /// Tables are sized for at most this many events up front; beyond it
    /// they grow as they fill.
    public static let reservationLimit = 1 << 20

    public init(capacity: Int = 100_000) {
        precondition(capacity > 0, "a MemoryInbox needs room for at least one event")
        self.capacity = capacity
        // Sized for `capacity` events now, not grown as they come: a
        // Swift dictionary grows by rehashing every key and moving every
        // value at once, under this store's lock, which both event loops
        // take on every callback. Growing through 24k, 49k, 98k and 196k
        // events stalled every request for 17, 34, 67 and 143 ms, and
        // those stalls were the memory path's p99 (about 90 ms against
        // 8 ms once reserved: BENCHMARKS.md, session 10). The room is
        // address space until events fill it; the tables reach the same
        // size at `capacity` events either way.
        let events = min(capacity, Self.reservationLimit)
        let queued = 2 * events + Storage.tidySlack + 1  // what `tidy()` lets a queue reach
        let logged = queued + Storage.tidySlack  // and the log's removed front
        storage.withLock { storage in
            storage.entries.reserveCapacity(events)
            storage.idsByKey.reserveCapacity(events)
            storage.orders.reserveCapacity(events)
            storage.slots.reserveCapacity(events)
            storage.log.reserveCapacity(logged)
            storage.heads.reserveCapacity(queued)
            storage.timed.reserveCapacity(queued)
            storage.completions.reserveCapacity(queued)
        }
    }

    /// How many entries the receipt-order log and the queues hold, out of
    /// date ones included until they are dropped: for tests.
    package var queueLengths: (log: Int, heads: Int, timed: Int, completions: Int) {
        storage.withLock { ($0.log.count, $0.heads.count, $0.timed.count, $0.completions.count) }
    }

    /// The room each table has (entries, keys, orders, slots, and the
    /// four queues), for tests: none grows while `capacity` events or
    /// fewer are stored.
    package var tableCapacities: [Int] {
        storage.withLock { storage in
            [storage.entries.capacity, storage.idsByKey.capacity, storage.orders.capacity, storage.slots.capacity,
             storage.log.capacity, storage.heads.capacity, storage.timed.capacity, storage.completions.capacity]
        }
    }

    /// How many events are stored.
    public var count: Int { storage.withLock { $0.entries.count } }

    public func record(_ new: NewInboxEvent, lease: LeaseRequest, now: Date) async throws -> RecordOutcome {
        try storage.withLock { storage in
            let slot = OrderStatusSlot(order: new.order, status: new.status)
            if new.source == .orderQuery, let first = storage.slots[slot]?.tickets.first,
                let event = storage.entry(first)?.event
            {
                return .duplicate(event)
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
                let reconciled = ids.compactMap({ storage.entries[HashedText($0)] }).min(by: { $0.sequence < $1.sequence })
            {
                return .duplicate(reconciled.event)
            }
            try makeRoom(&storage)
            // Each key hashed once where it can be (about a thousand
            // instructions a String key), and the order changed in place.
            let orderIndex = storage.orders.index(forKey: new.order)
            // What is needed of the order as it was, not a copy of it (which
            // would make the in-place change below copy its events).
            let previous = orderIndex.map { index in
                let order = storage.orders.values[index]
                return (status: order.status, rank: order.rank, idle: order.unfinished.isEmpty)
            }
            let isStale =
                if let rank = new.statusRank, let lastRank = previous?.rank { rank < lastRank } else { false }
            var event = InboxEvent(
                id: new.id, key: new.key, contentHash: new.contentHash, kind: new.kind, merchantID: new.merchantID,
                orderType: new.orderType, orderNo: new.orderNo, status: new.status, order: new.order,
                previousStatus: previous?.status, isStale: isStale, source: new.source, rawBody: new.rawBody,
                receivedAt: new.receivedAt)
            // Leased unless it must wait behind an unfinished event of its order.
            let granted: Lease? =
                switch lease {
                case .none: nil
                case .always(let lease): lease
                case .ifFirstOfOrder(let lease): previous?.idle ?? true ? lease : nil
                }
            let leaseUntil = granted.map { now.addingTimeInterval($0.duration.seconds) }
            if let granted, let leaseUntil {
                event.state = .processing(owner: granted.owner, leaseUntil: leaseUntil)
                event.attempts = 1
            }
            let ticket = Ticket(sequence: storage.nextSequence, id: HashedText(event.id))
            storage.nextSequence += 1
            func update(_ order: inout OrderState) {
                if !isStale {
                    order.status = new.status
                    order.rank = new.statusRank ?? previous?.rank
                }
                order.events += 1
                order.firstReceived = min(order.firstReceived, new.receivedAt)
                order.lastReceived = max(order.lastReceived, new.receivedAt)
                order.unfinished.append(ticket)
            }
            let firstOfOrder = previous?.idle ?? true
            if let orderIndex {
                update(&storage.orders.values[orderIndex])
            } else {
                var order = OrderState(
                    status: new.status, rank: new.statusRank, events: 0, firstReceived: new.receivedAt,
                    lastReceived: new.receivedAt)
                update(&order)
                storage.orders[new.order] = order
            }
            storage.slots[slot, default: SlotHolders()].tickets.append(ticket)
            if new.source == .orderQuery { storage.slots[slot, default: SlotHolders()].fromQueries.insert(event.id) }
            // A leased event waits for its lease end (what `Storage.wait` does, without looking it up again).
            storage.entries[ticket.id] = Entry(event: event, sequence: ticket.sequence, id: ticket.id, timedUntil: leaseUntil)
            storage.idsByKey[event.key] = ticket.id
            storage.log.append(ticket)
            if let leaseUntil {
                storage.timed.push(Timed(at: leaseUntil, ticket: ticket))
            } else if firstOfOrder {
                storage.offer(ticket)
            }
            storage.tidy()
            return .recorded(event)
        }
    }

    public func claim(id: String, owner: String, leaseDuration: Duration, now: Date) async throws -> InboxEvent? {
        let id = HashedText(id)
        return storage.withLock { storage in
            guard var entry = storage.entries[id] else { return nil }
            switch entry.event.state {
            case .pending, .waitingRetry: break
            case .processing(_, let until) where until <= now: break
            default: return nil
            }
            let until = now.addingTimeInterval(leaseDuration.seconds)
            entry.event.state = .processing(owner: owner, leaseUntil: until)
            entry.event.attempts += 1
            storage.entries[id] = entry
            storage.wait(entry.ticket, until: until)
            storage.tidy()
            return entry.event
        }
    }

    public func claimDue(owner: String, limit: Int, leaseDuration: Duration, now: Date) async throws -> [InboxEvent] {
        storage.withLock { storage in
            // Oldest first, and only the oldest unfinished event of each order.
            storage.collectDue(at: now)
            let until = now.addingTimeInterval(leaseDuration.seconds)
            var claimed: [InboxEvent] = []
            while claimed.count < limit, let ticket = storage.heads.popMin() {
                guard var entry = storage.entry(ticket) else { continue }
                entry.queued = false
                storage.entries[ticket.id] = entry
                // No longer its order's first: offered again when it is.
                guard storage.orders[entry.event.order]?.unfinished.first == ticket else { continue }
                switch entry.event.state {
                case .pending: break
                case .processing(_, let due), .waitingRetry(let due):
                    // Not due at this clock (a claim may ask with an earlier
                    // clock than one that saw it due): back among the timed.
                    guard due <= now else {
                        storage.wait(ticket, until: due)
                        continue
                    }
                case .completed, .dead: continue
                }
                entry.event.state = .processing(owner: owner, leaseUntil: until)
                entry.event.attempts += 1
                storage.entries[ticket.id] = entry
                storage.wait(ticket, until: until)
                claimed.append(entry.event)
            }
            storage.tidy()
            return claimed
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
        let id = HashedText(id)
        return storage.withLock { storage in
            // Changed in place, within one access (one hash of the id, no
            // copy of the entry, whose history would then be copied to
            // append to it).
            guard let index = storage.entries.index(forKey: id) else { return false }
            func apply(_ entry: inout Entry) -> (ticket: Ticket, state: EventState, order: OrderReference)? {
                guard case .processing(let holder, _) = entry.event.state, holder == owner else {
                    entry.history.keep(attempt.leaseLost())
                    return nil
                }
                change(&entry.event)
                entry.history.keep(attempt)
                return (entry.ticket, entry.event.state, entry.event.order)
            }
            guard let (ticket, state, order) = apply(&storage.entries.values[index]) else { return false }
            switch state {
            case .waitingRetry(let due):
                storage.wait(at: index, until: due)
            case .completed(let at):
                storage.completions.push(Timed(at: at, ticket: ticket))
                storage.entries.values[index].timedUntil = nil
                storage.settleInOrder(ticket, order: order)
            default:
                storage.entries.values[index].timedUntil = nil
                storage.settleInOrder(ticket, order: order)
            }
            storage.tidy()
            return true
        }
    }

    public func history(id: String) async throws -> EventHistory {
        storage.withLock { $0.entries[HashedText(id)]?.history ?? EventHistory() }
    }

    public func event(id: String) async throws -> InboxEvent? {
        storage.withLock { $0.entries[HashedText(id)]?.event }
    }

    public func list(_ filter: EventFilter) async throws -> [InboxEvent] {
        storage.withLock { storage in
            var skip = max(0, filter.offset ?? 0)
            let limit = max(0, filter.limit ?? Int.max)
            var matching: [InboxEvent] = []
            // In receipt order from the log, either way: stops at the page's end.
            let step = filter.newestFirst ? -1 : 1
            let live = storage.logStart..<storage.log.count
            var index = filter.newestFirst ? live.upperBound - 1 : live.lowerBound
            while matching.count < limit, live.contains(index) {
                if let event = storage.entry(storage.log[index])?.event, filter.matches(event) {
                    if skip > 0 { skip -= 1 } else { matching.append(event) }
                }
                index += step
            }
            return matching
        }
    }

    public func replay(id: String, now: Date) async throws -> InboxEvent? {
        let id = HashedText(id)
        return storage.withLock { storage in
            guard var entry = storage.entries[id] else { return nil }
            if case .processing(_, let until) = entry.event.state, until > now { return nil }
            entry.event.state = .pending
            entry.event.attempts = 0
            storage.entries[id] = entry
            storage.reopen(entry.ticket, order: entry.event.order)
            storage.tidy()
            return entry.event
        }
    }

    public func purge(_ filter: EventFilter) async throws -> Int {
        storage.withLock { storage in
            let now = Date()
            let limit = filter.limit ?? Int.max
            var doomed: [HashedText] = []
            // Oldest first from the log: stops at the limit.
            for ticket in storage.log[storage.logStart...] where doomed.count < limit {
                guard let entry = storage.entry(ticket) else { continue }
                if case .processing(_, let until) = entry.event.state, until > now { continue }
                if filter.matches(entry.event) { doomed.append(ticket.id) }
            }
            for id in doomed {
                if let index = storage.entries.index(forKey: id) { remove(at: index, from: &storage) }
            }
            storage.tidy()
            return doomed.count
        }
    }

    public func prune(completedBefore date: Date) async throws -> Int {
        storage.withLock { storage in
            let removed = prune(&storage, completedBefore: date)
            storage.tidy()
            return removed
        }
    }

    public func checkAvailability() async throws {}

    // MARK: bounds

    private func makeRoom(_ storage: inout Storage) throws {
        // The oldest completions first.
        while storage.entries.count >= capacity, let oldest = storage.completions.popMin() {
            if let index = storage.completedIndex(oldest) { remove(at: index, from: &storage) }
        }
        if storage.entries.count >= capacity { throw StoreError.full(capacity: capacity) }
    }

    @discardableResult
    private func prune(_ storage: inout Storage, completedBefore date: Date) -> Int {
        var removed = 0
        while let oldest = storage.completions.min, oldest.at < date {
            storage.completions.popMin()
            if let index = storage.completedIndex(oldest) {
                remove(at: index, from: &storage)
                removed += 1
            }
        }
        return removed
    }

    /// Forgets the event at `index`. Each of its keys is hashed once (its
    /// id to find it, its idempotency key, its order, its slot), and the
    /// order and slot are changed in place: at capacity every record evicts
    /// one event, and this used to hash ten keys where five do (callgrind,
    /// BENCHMARKS.md session 11).
    private func remove(at index: Dictionary<HashedText, Entry>.Index, from storage: inout Storage) {
        let entry = storage.entries.remove(at: index).value
        let event = entry.event
        let ticket = entry.ticket
        storage.dropSettledLease(ticket)
        storage.idsByKey.removeValue(forKey: event.key)
        if let orderIndex = storage.orders.index(forKey: event.order) {
            // Settled in its order (the next unfinished event offered if it
            // was the first); the order's last status is forgotten with its
            // last event.
            let next = storage.orders.values[orderIndex].forget(ticket)
            if storage.orders.values[orderIndex].events == 0 { storage.orders.remove(at: orderIndex) }
            if let next { storage.offer(next) }
        }
        let slot = OrderStatusSlot(order: event.order, status: event.status)
        if let slotIndex = storage.slots.index(forKey: slot) {
            let empty = storage.slots.values[slotIndex].forget(ticket, id: event.id)
            if empty { storage.slots.remove(at: slotIndex) }
        }
        storage.trimLogFront(removed: ticket)
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

extension MemoryInbox {
    /// Its lock is held only for a lookup or an insert.
    public var neverBlocksCaller: Bool { true }
}
