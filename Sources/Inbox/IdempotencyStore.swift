import Foundation

/// The inbox on the path of a callback: where verified callbacks are
/// recorded once per ``IdempotencyKey`` and from where handlers are run, at
/// least once each, with their completion recorded exactly once.
///
/// This is all the pipeline and the dispatcher need; what an operator needs
/// (listing, replaying, purging) is ``InboxAdministration``, which a store of
/// your own may implement as well. The pipeline never names an
/// implementation. ``MemoryInbox`` is in this module; durable stores (SQLite,
/// PostgreSQL) implement the same methods, and both protocols:
///
/// | method | SQL sketch |
/// |---|---|
/// | ``record(_:lease:now:)`` | `INSERT … SELECT … ON CONFLICT (key) DO NOTHING RETURNING` (the order's last status and, for a lease, its unfinished events read in the same statement), and only when nothing came back read the stored row; upsert the order's last status in the same transaction |
/// | ``claimDue(owner:limit:leaseDuration:now:)`` | `UPDATE … WHERE id IN (SELECT … FOR UPDATE SKIP LOCKED LIMIT n) RETURNING *` |
/// | ``complete(id:owner:attempt:)`` … | `UPDATE … WHERE id = ? AND lease_owner = ?`, and `INSERT` the attempt, in one transaction |
///
/// Every method may throw; ``StoreError/unavailable(_:)`` is the expected
/// one when the database is down. `now` is passed in so that tests and
/// several replicas agree on time in one place.
///
/// State changes that finish an attempt (``complete(id:owner:attempt:)``,
/// ``fail(id:owner:attempt:retryAt:)``, ``deadLetter(id:owner:attempt:)``)
/// take effect only for the current lease owner and return `false`
/// otherwise: a worker whose lease expired and was taken over must not
/// overwrite its successor's result.
public protocol IdempotencyStore: Sendable {
    /// Records `event` unless its key is already known.
    ///
    /// - New key: the event is stored as `pending`, or as `processing` held by
    ///   the requested lease (attempt 1, ``LeaseRequest``):
    ///   - ``LeaseRequest/always(_:)`` leases it unconditionally, so that a
    ///     request answering after its handlers runs them without a worker
    ///     racing it;
    ///   - ``LeaseRequest/ifFirstOfOrder(_:)`` leases it only if no earlier
    ///     event of its ``NewInboxEvent/order`` is unfinished (pending,
    ///     processing or waiting to retry), decided atomically in the same
    ///     write; otherwise it is stored `pending`, held behind those events,
    ///     and ``claimDue(owner:limit:leaseDuration:now:)`` takes it in order
    ///     later. Whether it was leased is the returned event's state
    ///     (`processing` by the lease's owner, or `pending`).
    ///
    ///   In the same step the order's last status is read (``InboxEvent/previousStatus``),
    ///   the event is flagged stale when its ``NewInboxEvent/statusRank`` is
    ///   lower than the last one's, and the last status advances unless stale.
    /// - Known key, same ``NewInboxEvent/contentHash``: `.duplicate`, no change.
    /// - Known key, other hash: `.conflict`, the conflict count goes up by
    ///   one, and the copy is kept in the event's ``EventHistory`` unless
    ///   one with its hash is, or ``EventHistory/copiesKept`` are already.
    ///
    /// Reconciliation (``NewInboxEvent/source``): an Order Query answer and a
    /// callback telling the same order and status are one event, whichever
    /// comes first. The answer carries no refund numbers, so they are matched
    /// on (``NewInboxEvent/order``, ``NewInboxEvent/status``):
    /// - an `.orderQuery` event is `.duplicate` of the first stored event of
    ///   its order with its status, whatever its key (a status-8 answer
    ///   matches a stored status-8 callback with any refund numbers);
    /// - a `.callback` whose key is unknown is `.duplicate` of a stored
    ///   `.orderQuery` event of its order and status (so a second partial
    ///   refund told only after a reconciled status 8 is not told again: the
    ///   answer already said "status 8");
    /// - a known key whose stored event has the other source is `.duplicate`,
    ///   never `.conflict`: their content hashes differ by nature.
    func record(_ event: NewInboxEvent, lease: LeaseRequest, now: Date) async throws -> RecordOutcome

    /// Claims one event if it is pending, waiting to retry (due or not: a
    /// redelivery is a reason to try now) or processing under an expired
    /// lease. Returns it with ``InboxEvent/attempts`` increased, or `nil`.
    func claim(id: String, owner: String, leaseDuration: Duration, now: Date) async throws -> InboxEvent?

    /// Claims up to `limit` events that are claimable at `now`
    /// (``EventState/isClaimable(at:)``), oldest first, each with
    /// ``InboxEvent/attempts`` increased. Concurrent callers never get the same event.
    ///
    /// One order at a time, in order of receipt: an event is claimed only
    /// when no earlier event of its ``InboxEvent/order`` is unfinished
    /// (``EventState/isUnfinished``), so a refund's handler never runs
    /// before, or beside, the handler of the payment it refunds. A failing
    /// event holds back the later ones of its order until it completes or
    /// becomes a dead letter.
    func claimDue(owner: String, limit: Int, leaseDuration: Duration, now: Date) async throws -> [InboxEvent]

    /// Marks an event completed and keeps `attempt` (outcome `.handled`,
    /// ended at the completion time) in its history, in the same write.
    ///
    /// When the lease is not held any more, nothing changes but the history:
    /// the attempt is kept as ``HandlerAttempt/Outcome/leaseLost`` (if the
    /// event still exists), and the method returns `false`.
    func complete(id: String, owner: String, attempt: HandlerAttempt) async throws -> Bool

    /// Records a failed attempt (`attempt.error` becomes the last error, and
    /// the attempt is kept as for ``complete(id:owner:attempt:)``); the event
    /// is claimable again from `retryAt`.
    func fail(id: String, owner: String, attempt: HandlerAttempt, retryAt: Date) async throws -> Bool

    /// Records the last failed attempt, kept like ``fail(id:owner:attempt:retryAt:)``:
    /// the event becomes a dead letter at `attempt.endedAt`.
    func deadLetter(id: String, owner: String, attempt: HandlerAttempt) async throws -> Bool

    /// One event by id: a delivery answering after its handlers reads the
    /// stored event again while another owner's attempt is in progress.
    func event(id: String) async throws -> InboxEvent?

    /// Throws when the store cannot serve requests (for `/readyz`).
    func checkAvailability() async throws

    /// Whether every method suspends rather than blocks its caller's thread
    /// (beyond a lock held for a moment): then callbacks are verified and
    /// recorded on the HTTP server's event loops, with no hop to another
    /// thread. A store doing file or network I/O on the calling thread must
    /// say false, the default; the memory, SQLite and PostgreSQL inboxes say
    /// true (their I/O is on threads or event loops of their own).
    var neverBlocksCaller: Bool { get }

    /// Whether a write returns only when a commit shared with other
    /// writers ends (a group commit: an fsync, a database round trip), so
    /// that issuing more writes meanwhile costs their caller little: then
    /// the dispatch workers take new events while the outcomes of their
    /// last ones commit, rather than waiting for each commit. False by
    /// default; the SQLite and PostgreSQL inboxes say true, the memory
    /// inbox false (its writes end at once).
    var writesWaitForGroupCommit: Bool { get }
}

extension IdempotencyStore {
    public var neverBlocksCaller: Bool { false }
    public var writesWaitForGroupCommit: Bool { false }
}

/// What an operator does with an inbox, never on the path of a callback:
/// look at events and their history, count them, replay dead letters, purge,
/// and prune completed events (retention). The operator console, the
/// `events` commands and `serve`'s retention sweep need it; the memory,
/// SQLite and PostgreSQL inboxes implement it.
public protocol InboxAdministration: IdempotencyStore {
    /// The event's kept attempts and conflicting copies (see
    /// ``EventHistory``); empty for an unknown id. For operators: never on
    /// the path of a callback.
    func history(id: String) async throws -> EventHistory

    /// Events matching `filter`, oldest first (newest first with
    /// ``EventFilter/newestFirst``), from ``EventFilter/offset`` up to
    /// ``EventFilter/limit``.
    func list(_ filter: EventFilter) async throws -> [InboxEvent]

    /// How many events match `filter`'s criteria (its limit, offset and
    /// order aside). The default lists them; SQL stores count in the database.
    func count(_ filter: EventFilter) async throws -> Int

    /// Makes a dead, completed or waiting event pending again with its
    /// attempt count reset (the last error is kept), so the workers run it
    /// afresh. Returns the event, or `nil` if unknown or in progress.
    func replay(id: String, now: Date) async throws -> InboxEvent?

    /// Deletes the matching events that are not in progress; returns how many.
    /// Their keys are forgotten: a later repeat would be a new event.
    func purge(_ filter: EventFilter) async throws -> Int

    /// Retention: deletes events completed before `date`. Dead letters stay.
    func prune(completedBefore date: Date) async throws -> Int
}

extension InboxAdministration {
    public func count(_ filter: EventFilter) async throws -> Int {
        var criteria = filter
        criteria.limit = nil
        criteria.offset = nil
        return try await list(criteria).count
    }
}

extension IdempotencyStore {
    /// Marks an event completed, as an attempt that started and ended at
    /// `now`, numbered from the stored event's claim count (one more read).
    /// A shorthand for tests and tools; the dispatcher gives the whole attempt.
    public func complete(id: String, owner: String, now: Date) async throws -> Bool {
        try await complete(id: id, owner: owner, attempt: shorthandAttempt(id, now: now, outcome: .handled, error: nil))
    }

    /// Records a failed attempt that started and ended at `now`: see ``complete(id:owner:now:)``.
    public func fail(id: String, owner: String, error: String, retryAt: Date, now: Date) async throws -> Bool {
        try await fail(
            id: id, owner: owner, attempt: shorthandAttempt(id, now: now, outcome: .failed, error: error), retryAt: retryAt)
    }

    /// Records the last failed attempt, started and ended at `now`: see ``complete(id:owner:now:)``.
    public func deadLetter(id: String, owner: String, error: String, now: Date) async throws -> Bool {
        try await deadLetter(id: id, owner: owner, attempt: shorthandAttempt(id, now: now, outcome: .failed, error: error))
    }

    private func shorthandAttempt(
        _ id: String, now: Date, outcome: HandlerAttempt.Outcome, error: String?
    ) async throws -> HandlerAttempt {
        let number = try await event(id: id)?.attempts ?? 0
        return HandlerAttempt(number: number, startedAt: now, endedAt: now, outcome: outcome, error: error)
    }
}
