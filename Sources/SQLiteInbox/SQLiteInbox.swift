import Durations
import Foundation
import Inbox
import Locking
import SQLiteStore
import Synchronization

/// An ``IdempotencyStore`` in one SQLite file: the durable inbox of a
/// single server (or of several processes sharing a local disk).
///
/// - Every change goes through one `GroupCommitWriter`: concurrent requests
///   share a transaction, and so one fsync, and each call returns only once
///   its transaction has committed. With `synchronous: .full` (the default)
///   an acknowledged callback survives a crash and a power loss; `.normal`
///   keeps it across a crash but may lose the last ones on power loss.
/// - The idempotency key is UNIQUE and each `record` is one read of the
///   event's order and one INSERT (see `orderReading` and `insertion`) in
///   one write, under the write lock, so de-duplication is atomic; the
///   order's last status is updated in that same transaction.
/// - Reads (`event`, `list`, `checkAvailability`) run on a pool of read-only
///   connections beside the writer (WAL mode).
/// - Any failure of the database (cannot open, I/O error, disk full, busy
///   beyond the timeout, closed) is ``StoreError/unavailable(_:)``, which
///   the pipeline answers with `503`. A repeated key is never an error: it
///   is `.duplicate` or `.conflict`.
///
/// - Readiness (``checkAvailability()``) fails while the last write failed
///   for the database's own reason (a full disk, an I/O error, a read-only
///   file), not only while the database cannot be read: it throws that
///   write's error. When asked in that state it commits a probe write
///   first (as many new pages as a callback's, then deleted); the probe, or a
///   newly recorded event, clears the failure (claims and outcomes update
///   rows in place and may succeed where a new callback fails, so they do not). Lock contention
///   (`busy`) does not count: another process holding the lock is not a
///   broken store.
///
/// Times are kept to the millisecond. Completed events stay until
/// ``prune(completedBefore:)``; call it periodically with the retention you
/// want (longer than TrustPay's redelivery window).
///
/// ```swift
/// let inbox = try await SQLiteInbox.open(path: "data/trustpay-webhooks.sqlite")
/// let webhooks = WebhookServer(merchants: merchants, store: inbox)
/// …
/// await inbox.close()
/// ```
public final class SQLiteInbox: InboxAdministration {
    /// The database file.
    public let path: String
    let database: SQLiteDatabase
    /// Rows one purge or prune transaction deletes at most, so that a large
    /// deletion never holds up recording for long.
    let deletionBatch: Int
    /// Why the most recent write failed, while it is the most recent outcome.
    let writeHealth = WriteHealth()

    /// The most writes one transaction takes unless `open` is told otherwise;
    /// `maxBatch: 1` turns group commit off.
    public static var defaultMaxBatch: Int { GroupCommitWriter.defaultMaxBatch }

    /// The schema version this build creates and expects.
    public static var schemaVersion: Int { InboxSchema.migrations.last?.version ?? 0 }

    init(database: SQLiteDatabase, deletionBatch: Int = 1000) {
        precondition(deletionBatch > 0, "deletionBatch must be positive")
        path = database.path
        self.database = database
        self.deletionBatch = deletionBatch
    }

    /// Opens the inbox at `path`, creating its directory and the database
    /// when missing and bringing the schema up to date.
    ///
    /// - Parameters:
    ///   - synchronous: `.full` fsyncs every commit before acknowledging it.
    ///   - busyTimeout: how long a write waits for another process's lock
    ///     before it fails (as ``StoreError/unavailable(_:)``).
    ///   - maxBatch: the most writes one transaction takes (1 turns group commit off).
    ///   - readerConnections: read-only connections for `event` and `list`.
    /// - Throws: ``StoreError/unavailable(_:)`` saying why: the directory
    ///   cannot be created, the file cannot be opened or is not a database,
    ///   or its schema is newer than this build; `":memory:"` is refused.
    public static func open(
        path: String, synchronous: SQLiteConfiguration.Synchronous = .full, busyTimeout: Duration = .seconds(5),
        maxBatch: Int = GroupCommitWriter.defaultMaxBatch, readerConnections: Int = 2
    ) async throws(StoreError) -> SQLiteInbox {
        guard path != ":memory:" && !path.isEmpty else {
            // The writer and each reader would each get a database of their own.
            throw .unavailable("the SQLite inbox needs a file; use MemoryInbox for an inbox in memory")
        }
        try createDirectory(containing: path)
        do {
            let database = try await SQLiteDatabase(
                path: path, configuration: SQLiteConfiguration(synchronous: synchronous, busyTimeout: busyTimeout),
                migrations: InboxSchema.migrations, maxBatch: maxBatch, readerConnections: readerConnections)
            return SQLiteInbox(database: database)
        } catch {
            throw StoreError.unavailable("cannot open the inbox: \(error)")
        }
    }

    /// Commits the writes already queued, then closes the database; later
    /// calls throw ``StoreError/unavailable(_:)``.
    public func close() async { await database.close() }

    /// The group-commit writer's counters: writes, and the transactions
    /// (fsyncs) they shared.
    public var writerStatistics: WriterStatistics { database.writer.statistics }

    // MARK: recording

    public func record(_ new: NewInboxEvent, lease: LeaseRequest, now: Date) async throws -> RecordOutcome {
        try await write("cannot record the event", proves: { if case .recorded = $0 { true } else { false } }) { db in
            try Self.record(new, lease: lease, now: now, on: db)
        }
    }

    /// One read of the event's order and one INSERT decide everything a new
    /// event needs and write it: the read tells, by two index probes,
    /// whether a reconciled event of its order and status keeps it out and,
    /// for a conditional lease, whether an event of its order is
    /// unfinished; the unique key answers a repeat (nothing is inserted),
    /// and the read gives the order's last status too. Only when nothing
    /// was inserted are the stored rows read, to tell which case it was. One
    /// more statement: the upsert of the order's last status.
    private static func record(
        _ new: NewInboxEvent, lease: LeaseRequest, now: Date, on db: SQLiteConnection
    ) throws -> RecordOutcome {
        let order = try db.query(
            orderReading, .text(new.order.rawValue), .integer(Int64(new.status)),
            .text(new.source.rawValue), new.statusRank.map { .integer(Int64($0)) } ?? .null)
        guard let read = order.first, let waiting = read[0].int64, let reconciled = read[1].int64 else {
            throw StoreError.unavailable("the order of the event \(new.id) could not be read")
        }
        guard reconciled == 0 else { return try notInserted(new, now: now, on: db) }
        let granted: Int64 =
            switch lease {
            case .none: 0
            case .always: 1
            case .ifFirstOfOrder: waiting == 0 ? 1 : 0
            }
        let leaseOwner: SQLiteValue = granted == 0 ? .null : lease.lease.map { .text($0.owner) } ?? .null
        let leaseUntil: SQLiteValue =
            granted == 0 ? .null : lease.lease.map { .integer(now.millisecondsSince1970 + $0.duration.wholeMilliseconds) } ?? .null
        // The columns the store decides, as the insert writes them: the
        // event returned is built from these, not read back.
        let decided: [SQLiteValue] = [read[2], read[3], .text(granted == 0 ? "pending" : "processing"), leaseOwner,
                                      leaseUntil, .integer(granted)]
        let inserted = try db.execute(
            insertion,
            parameters: [
                .text(new.id), .text(new.key.rawValue), .text(new.contentHash), .text(new.kind.rawValue),
                .integer(new.merchantID), new.orderType.map { .integer(Int64($0)) } ?? .null, .text(new.orderNo),
                .integer(Int64(new.status)), .text(new.order.rawValue),
            ] + decided + [.integer(waiting), .blob(new.rawBody), .time(new.receivedAt), .time(now), .text(new.source.rawValue)])
        guard inserted == 1 else { return try notInserted(new, now: now, on: db) }
        let event = try EventRows.inserted(new, decided: decided)
        // A stale event leaves the order where it was; an unranked one moves
        // the status but keeps the last rank.
        try db.execute("""
            INSERT INTO order_last_status (order_ref, status, status_rank, events) VALUES (?1, ?2, ?3, 1)
            ON CONFLICT (order_ref) DO UPDATE SET
                status = CASE WHEN ?4 THEN status ELSE excluded.status END,
                status_rank = CASE WHEN ?4 THEN status_rank ELSE coalesce(excluded.status_rank, status_rank) END,
                events = events + 1
            """,
            .text(new.order.rawValue), .integer(Int64(new.status)), new.statusRank.map { .integer(Int64($0)) } ?? .null,
            .integer(event.isStale ? 1 : 0))
        return .recorded(event)
    }

    /// What the stored events of a new event's order (`?1`, status `?2`,
    /// rank `?4`) decide: whether an event of its order is unfinished (the
    /// new one then waits behind it, `held`, and a lease asked for "if
    /// first of its order" is not granted); whether a reconciled event of
    /// its order and status keeps it out (or, for an order-query answer,
    /// `?3` its source, any event of them); the order's last status (or
    /// null); whether the event is stale (its rank below the order's last
    /// one). The new row gets the largest `seq`, so an unfinished event of
    /// its order is an earlier one. Read apart from the insert, which is
    /// then an INSERT … VALUES: SQLite copies the rows of an INSERT …
    /// SELECT into a temporary B-tree first when the table has triggers or
    /// the SELECT reads it, at every record.
    static let orderReading = """
        SELECT
            EXISTS (
                SELECT 1 FROM inbox_events INDEXED BY inbox_events_open_by_order
                WHERE order_ref = ?1 AND \(InboxSchema.isUnfinished)),
            EXISTS (
                SELECT 1 FROM inbox_events INDEXED BY inbox_events_order_status
                WHERE order_ref = ?1 AND status = ?2 AND (?3 = 'order-query' OR source = 'order-query')),
            prior.status, coalesce(?4 < prior.status_rank, 0)
        FROM (SELECT 1) LEFT JOIN order_last_status AS prior ON prior.order_ref = ?1
        """

    /// The new event's row, unless its key is stored (see
    /// ``IdempotencyStore/record(_:lease:now:)``): `?1`…`?9` its fields;
    /// `?10`…`?15` what ``orderReading`` decided, in the order of
    /// ``EventRows/decidedColumns``; `?16` held; `?17` the body, `?18`
    /// received, `?19` now, `?20` the source.
    static let insertion = """
        INSERT INTO inbox_events (
            id, idempotency_key, content_hash, kind, merchant_id, order_type, order_no, status, order_ref,
            \(EventRows.decidedColumns), held, raw_body, received_at, updated_at, source)
        VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20)
        ON CONFLICT (idempotency_key) DO NOTHING
        """

    /// Why nothing was inserted, in the order the contract gives: an
    /// order-query answer matches the first event of its order and status
    /// whatever the key; a known key is a repeat; a callback matches a
    /// reconciled event of its order and status.
    private static func notInserted(_ new: NewInboxEvent, now: Date, on db: SQLiteConnection) throws -> RecordOutcome {
        if new.source == .orderQuery, let first = try firstEvent(of: new, source: nil, on: db) {
            return .duplicate(first)
        }
        if let stored = try storedEvent(key: new.key, on: db) {
            return try repeated(stored, by: new, now: now, on: db)
        }
        if new.source == .callback, let reconciled = try firstEvent(of: new, source: .orderQuery, on: db) {
            return .duplicate(reconciled)
        }
        // Not while this connection holds the write lock.
        throw StoreError.unavailable("the event was neither inserted nor found")
    }

    /// A repeat of a stored key: a duplicate, or a conflict that is counted.
    private static func repeated(
        _ stored: InboxEvent, by new: NewInboxEvent, now: Date, on db: SQLiteConnection
    ) throws -> RecordOutcome {
        // A callback and an order-query answer differ by nature, not by conflict.
        guard stored.contentHash != new.contentHash && stored.source == new.source else { return .duplicate(stored) }
        let rows = try db.query(
            "UPDATE inbox_events SET conflicts = conflicts + 1, updated_at = ? WHERE id = ? RETURNING \(EventRows.columns)",
            .time(now), .text(stored.id))
        guard let row = rows.first else {
            throw StoreError.unavailable("the event \(stored.id) vanished while recording a conflict")
        }
        // Only a conflict writes here, and in the transaction that counts it.
        try db.execute("""
            INSERT INTO inbox_conflicting_copies (event_id, content_hash, raw_body, received_at)
            SELECT ?1, ?2, ?3, ?4 WHERE (SELECT count(*) FROM inbox_conflicting_copies WHERE event_id = ?1) < ?5
            ON CONFLICT (event_id, content_hash) DO NOTHING
            """,
            .text(stored.id), .text(new.contentHash), .blob(new.rawBody), .time(new.receivedAt),
            .integer(Int64(EventHistory.copiesKept)))
        return .conflict(try EventRows.event(row).event)
    }

    /// The first stored event of `new`'s order and status (of `source`, when given).
    private static func firstEvent(
        of new: NewInboxEvent, source: EventSource?, on db: SQLiteConnection
    ) throws -> InboxEvent? {
        let rows = try db.query(
            """
            SELECT \(EventRows.columns) FROM inbox_events INDEXED BY inbox_events_order_status
            WHERE order_ref = ?1 AND status = ?2 AND (?3 IS NULL OR source = ?3) ORDER BY seq LIMIT 1
            """,
            .text(new.order.rawValue), .integer(Int64(new.status)), source.map { .text($0.rawValue) } ?? .null)
        return try rows.first.map { try EventRows.event($0).event }
    }

    private static func storedEvent(key: IdempotencyKey, on db: SQLiteConnection) throws -> InboxEvent? {
        let rows = try db.query(
            "SELECT \(EventRows.columns) FROM inbox_events WHERE idempotency_key = ?", .text(key.rawValue))
        return try rows.first.map { try EventRows.event($0).event }
    }

    // MARK: leases

    public func claim(id: String, owner: String, leaseDuration: Duration, now: Date) async throws -> InboxEvent? {
        let leaseUntil = now.millisecondsSince1970 + leaseDuration.wholeMilliseconds
        return try await write("cannot claim the event") { db in
            let rows = try db.query(Self.claiming, .text(owner), .integer(leaseUntil), .time(now), .text(id))
            return try rows.first.map { try EventRows.event($0).event }
        }
    }

    /// Leases event `?4` to `?1` until `?2` if it is claimable at `?3`
    /// (OR FAIL: see ``completion``).
    static let claiming = """
        UPDATE OR FAIL inbox_events
        SET state = 'processing', lease_owner = ?1, lease_until = ?2, next_attempt_at = NULL,
            attempts = attempts + 1, updated_at = ?3
        WHERE id = ?4 AND (state IN ('pending', 'waiting-retry') OR (state = 'processing' AND lease_until <= ?3))
        RETURNING \(EventRows.columns)
        """

    public func claimDue(owner: String, limit: Int, leaseDuration: Duration, now: Date) async throws -> [InboxEvent] {
        guard limit > 0 else { return [] }
        let leaseUntil = now.millisecondsSince1970 + leaseDuration.wholeMilliseconds
        return try await write("cannot claim events") { db in
            // Most claims under load find nothing (the hand-off delivers the
            // new events). The claim's UPDATE built about seven temporary
            // B-trees even then (its UNION ALL with ORDER BY, its IN, its
            // RETURNING): about 160,000 instructions, against a few thousand
            // for this read (callgrind).
            guard let due = try db.query(Self.anythingDue, .time(now)).first,
                  let pending = due[0].int64, let retried = due[1].int64, let expired = due[2].int64,
                  pending + retried + expired > 0
            else { return [] }
            // Only pending events due (the usual case: no retry fell due, no
            // lease ended): ``dueEvents`` would give the same ones, the first
            // in order of receipt, but sorts the three parts' union to merge them.
            let claim = retried + expired == 0 ? Self.pendingClaim : Self.dueClaim
            let rows = try db.query(
                claim, .text(owner), .integer(leaseUntil), .time(now), .integer(Int64(limit)))
            return try EventRows.events(rows)
        }
    }

    /// What is claimable at `?1`, as three flags (0 or 1): a pending event,
    /// a retry that fell due, an expired lease (each as ``dueEvents`` finds
    /// them): three index probes, no sort, no temporary B-tree.
    static let anythingDue = """
        SELECT EXISTS (
                SELECT 1 FROM inbox_events AS c INDEXED BY inbox_events_pending
                WHERE state = 'pending' AND held = 0 AND \(firstOpenOfItsOrder)),
            EXISTS (
                SELECT 1 FROM inbox_events AS c INDEXED BY inbox_events_retry_due
                WHERE state = 'waiting-retry' AND next_attempt_at <= ?1 AND held = 0 AND \(firstOpenOfItsOrder)),
            EXISTS (
                SELECT 1 FROM inbox_events AS c INDEXED BY inbox_events_lease_end
                WHERE state = 'processing' AND lease_until <= ?1 AND held = 0 AND \(firstOpenOfItsOrder))
        """

    /// ``dueClaim`` when only pending events are due: the first `?4` of
    /// them in order of receipt, read from their index as ``dueEvents``'
    /// first part reads them, with no union of three parts to sort.
    static let pendingClaim = """
        UPDATE OR FAIL inbox_events
        SET state = 'processing', lease_owner = ?1, lease_until = ?2, next_attempt_at = NULL,
            attempts = attempts + 1, updated_at = ?3
        WHERE seq IN (
            SELECT seq FROM inbox_events AS c INDEXED BY inbox_events_pending
            WHERE state = 'pending' AND held = 0 AND \(firstOpenOfItsOrder) ORDER BY seq LIMIT ?4)
        RETURNING \(EventRows.columns)
        """

    /// Leases to `?1` until `?2` the events due at `?3`, at most `?4`
    /// (``dueEvents``). OR FAIL, as every change of an event's state on
    /// the hot path: see ``completion``.
    static let dueClaim = """
        UPDATE OR FAIL inbox_events
        SET state = 'processing', lease_owner = ?1, lease_until = ?2, next_attempt_at = NULL,
            attempts = attempts + 1, updated_at = ?3
        WHERE seq IN (\(dueEvents))
        RETURNING \(EventRows.columns)
        """

    /// The events claimable at `?3`, at most `?4`: pending ones in order of
    /// receipt, then retries that fell due and expired leases, earliest due
    /// first; only the first unfinished event of each order (not `held`,
    /// see migration 3). Each part is read in index order and cut at `?4`,
    /// so only a few rows are sorted however long the backlog (without
    /// INDEXED BY the planner may pick the index of every event by state
    /// and sort every pending row, every retry or every lease).
    static let dueEvents = """
        SELECT seq FROM (
            SELECT seq, 0 AS due FROM (
                SELECT seq FROM inbox_events AS c INDEXED BY inbox_events_pending
                WHERE state = 'pending' AND held = 0 AND \(firstOpenOfItsOrder) ORDER BY seq LIMIT ?4)
            UNION ALL
            SELECT seq, due FROM (
                SELECT seq, next_attempt_at AS due FROM inbox_events AS c INDEXED BY inbox_events_retry_due
                WHERE state = 'waiting-retry' AND next_attempt_at <= ?3 AND held = 0 AND \(firstOpenOfItsOrder)
                ORDER BY next_attempt_at, seq LIMIT ?4)
            UNION ALL
            SELECT seq, due FROM (
                SELECT seq, lease_until AS due FROM inbox_events AS c INDEXED BY inbox_events_lease_end
                WHERE state = 'processing' AND lease_until <= ?3 AND held = 0 AND \(firstOpenOfItsOrder)
                ORDER BY lease_until, seq LIMIT ?4)
            ORDER BY due, seq LIMIT ?4)
        """

    /// Event `c` is the first unfinished one of its order, checked directly:
    /// the triggers keep `held` so, and this makes sure no slip in them can
    /// ever run two events of one order at once. One probe of the index of
    /// unfinished events per candidate.
    static let firstOpenOfItsOrder = """
        NOT EXISTS (
            SELECT 1 FROM inbox_events AS earlier INDEXED BY inbox_events_open_by_order
            WHERE earlier.order_ref = c.order_ref AND earlier.seq < c.seq
                AND earlier.\(InboxSchema.isUnfinished))
        """

    public func complete(id: String, owner: String, attempt: HandlerAttempt) async throws -> Bool {
        try await write("cannot record the completion") { db in
            let changed = try db.execute(Self.completion, .time(attempt.endedAt), .text(id), .text(owner)) == 1
            return try Self.keep(attempt, of: id, finished: changed, on: db)
        }
    }

    /// Completes event `?2` at `?1` if `?3` still holds its lease.
    ///
    /// `UPDATE OR FAIL`, as the claims, failures and dead letters: SQLite
    /// opens a statement journal (a savepoint, a copy of every page the
    /// statement changes, all freed at its end) for a statement that may
    /// change several rows or fires a trigger (the hold triggers of a change
    /// of state) and that may abort on a constraint (the CHECKs, ABORT by
    /// default), so that an abort undoes that statement alone. With FAIL
    /// none aborts, so there is no journal. A statement that fails keeps
    /// the rows it changed before, but no write closure goes on after an
    /// error: `GroupCommitWriter` rolls its batch back, or its savepoint
    /// when the batch runs again isolated. Those journals were about 5% of
    /// a durable callback's instructions (callgrind, BENCHMARKS.md session 12).
    static let completion = """
        UPDATE OR FAIL inbox_events
        SET state = 'completed', completed_at = ?1, lease_owner = NULL, lease_until = NULL, updated_at = ?1
        WHERE id = ?2 AND state = 'processing' AND lease_owner = ?3
        """

    public func fail(id: String, owner: String, attempt: HandlerAttempt, retryAt: Date) async throws -> Bool {
        try await write("cannot record the failed attempt") { db in
            let changed = try db.execute(Self.failure,
                .time(retryAt), attempt.error.map { .text($0) } ?? .null, .time(attempt.endedAt), .text(id),
                .text(owner)) == 1
            return try Self.keep(attempt, of: id, finished: changed, on: db)
        }
    }

    public func deadLetter(id: String, owner: String, attempt: HandlerAttempt) async throws -> Bool {
        try await write("cannot record the dead letter") { db in
            let changed = try db.execute(
                Self.deadLettering, .time(attempt.endedAt), attempt.error.map { .text($0) } ?? .null, .text(id),
                .text(owner)) == 1
            return try Self.keep(attempt, of: id, finished: changed, on: db)
        }
    }

    /// Event `?4` waits for a retry at `?1` (its error `?2`, now `?3`) if `?5` still holds its lease.
    static let failure = """
        UPDATE OR FAIL inbox_events
        SET state = 'waiting-retry', next_attempt_at = ?1, last_error = coalesce(?2, last_error),
            lease_owner = NULL, lease_until = NULL, updated_at = ?3
        WHERE id = ?4 AND state = 'processing' AND lease_owner = ?5
        """

    /// Event `?3` is dead at `?1` (its error `?2`) if `?4` still holds its lease.
    static let deadLettering = """
        UPDATE OR FAIL inbox_events
        SET state = 'dead', dead_at = ?1, last_error = coalesce(?2, last_error), lease_owner = NULL,
            lease_until = NULL, updated_at = ?1
        WHERE id = ?3 AND state = 'processing' AND lease_owner = ?4
        """

    /// Keeps `attempt` in the transaction that finished it (as lease-lost
    /// when it did not), and drops its event's attempts beyond the last
    /// ``EventHistory/attemptsKept``: an insert and a read more in the same
    /// commit (a delete too, past the last ones), no write of their own.
    /// Returns `finished`.
    private static func keep(
        _ attempt: HandlerAttempt, of id: String, finished: Bool, on db: SQLiteConnection
    ) throws -> Bool {
        // A finished event is there (its row just changed), so its attempt
        // goes in by VALUES. INSERT … SELECT writes "several rows" for
        // SQLite, which with the foreign key's check that may abort opened
        // a statement journal at every completion (see `completion`); only
        // an attempt whose lease was lost, whose event may be gone, needs it.
        try db.execute(finished ? Self.attemptInsertion : Self.attemptInsertionIfStored,
            .text(id), .integer(Int64(attempt.number)), .time(attempt.startedAt), .time(attempt.endedAt),
            .text(finished ? attempt.outcome.rawValue : HandlerAttempt.Outcome.leaseLost.rawValue),
            attempt.error.map { .text($0) } ?? .null)
        // Found first by a read, which is cheap: a DELETE opens a statement
        // journal even when it deletes nothing, as here but past 50 attempts.
        let oldestDropped = try db.query(
            "SELECT seq FROM inbox_attempts WHERE event_id = ?1 ORDER BY seq DESC LIMIT 1 OFFSET ?2",
            .text(id), .integer(Int64(EventHistory.attemptsKept))
        ).first?[0].int64
        if let oldestDropped {
            try db.execute("DELETE FROM inbox_attempts WHERE event_id = ?1 AND seq <= ?2", .text(id), .integer(oldestDropped))
        }
        return finished
    }

    /// Keeps attempt `?2`…`?6` of event `?1`, which is stored.
    static let attemptInsertion = """
        INSERT INTO inbox_attempts (event_id, number, started_at, ended_at, outcome, error)
        VALUES (?1, ?2, ?3, ?4, ?5, ?6)
        """

    /// Keeps attempt `?2`…`?6` of event `?1` if that event is stored.
    static let attemptInsertionIfStored = """
        INSERT INTO inbox_attempts (event_id, number, started_at, ended_at, outcome, error)
        SELECT id, ?2, ?3, ?4, ?5, ?6 FROM inbox_events WHERE id = ?1
        """

    public func history(id: String) async throws -> EventHistory {
        try await read("cannot read the event's history") { db in
            let attempts = try db.query("""
                SELECT number, started_at, ended_at, outcome, error FROM inbox_attempts WHERE event_id = ? ORDER BY seq
                """, .text(id))
            let copies = try db.query("""
                SELECT content_hash, raw_body, received_at FROM inbox_conflicting_copies WHERE event_id = ? ORDER BY seq
                """, .text(id))
            return try EventRows.history(attempts: attempts, copies: copies)
        }
    }

    // MARK: queries and maintenance

    public func event(id: String) async throws -> InboxEvent? {
        try await read("cannot read the event") { db in
            let rows = try db.query("SELECT \(EventRows.columns) FROM inbox_events WHERE id = ?", .text(id))
            return try rows.first.map { try EventRows.event($0).event }
        }
    }

    public func list(_ filter: EventFilter) async throws -> [InboxEvent] {
        let condition = filter.condition
        return try await read("cannot list events") { db in
            let rows = try db.query(
                Self.listing(condition, newestFirst: filter.newestFirst),
                parameters: condition.parameters + [filter.sqlLimit, .integer(Int64(max(0, filter.offset ?? 0)))])
            return try EventRows.events(rows, newestFirst: filter.newestFirst)
        }
    }

    public func count(_ filter: EventFilter) async throws -> Int {
        let condition = filter.condition
        return try await read("cannot count events") { db in
            let rows = try db.query("SELECT count(*) FROM inbox_events WHERE \(condition.sql)", parameters: condition.parameters)
            return rows.first?[0].int ?? 0
        }
    }

    public func replay(id: String, now: Date) async throws -> InboxEvent? {
        try await write("cannot replay the event") { db in
            let rows = try db.query("""
                UPDATE inbox_events
                SET state = 'pending', attempts = 0, lease_owner = NULL, lease_until = NULL, next_attempt_at = NULL,
                    completed_at = NULL, dead_at = NULL, updated_at = ?1
                WHERE id = ?2 AND NOT (state = 'processing' AND lease_until > ?1)
                RETURNING \(EventRows.columns)
                """,
                .time(now), .text(id))
            return try rows.first.map { try EventRows.event($0).event }
        }
    }

    /// The events matching `condition`, oldest (or newest) first, from an offset up to a limit.
    static func listing(_ condition: SQLCondition, newestFirst: Bool) -> String {
        "SELECT \(EventRows.columns) FROM inbox_events WHERE \(condition.sql) ORDER BY seq\(newestFirst ? " DESC" : "") "
            + "LIMIT ? OFFSET ?"
    }

    public func purge(_ filter: EventFilter) async throws -> Int {
        let notInProgress = SQLCondition(sql: "NOT (state = 'processing' AND lease_until > ?)", parameters: [.time(Date())])
        return try await delete(filter.condition && notInProgress, limit: filter.limit, action: "cannot purge events")
    }

    public func prune(completedBefore date: Date) async throws -> Int {
        return try await delete(Self.completed(before: date), limit: nil, action: "cannot prune completed events")
    }

    static func completed(before date: Date) -> SQLCondition {
        // Only the completed ones, by completion time (migration 8): the
        // index of every event by state would read each completed event.
        SQLCondition(sql: "state = 'completed' AND completed_at < ?", parameters: [.time(date)],
                     index: "inbox_events_completed")
    }

    public func checkAvailability() async throws {
        try await read("the database does not answer") { db in
            _ = try db.query("SELECT version FROM schema_version LIMIT 1")
        }
        // Only when the last write failed: the hot path pays nothing for this.
        guard let failure = writeHealth.failure else { return }
        do {
            try await database.write { db in try Self.probeWrite(on: db) }
            try await database.write { db in try Self.removeProbe(on: db) }
            writeHealth.succeeded()
        } catch {
            // The write that failed is named; the probe's error is SQLite's own.
            throw StoreError.unavailable("writes fail: \(failure.reason); a probe write fails too: \(error)")
        }
    }

    /// A write like a callback's, committed: a row of ``probePages`` pages,
    /// new ones unless an earlier probe left free pages, so that a database
    /// at its page limit fails as a new callback would, and as many frames in
    /// the WAL as a callback's transaction writes (new events, their indexes
    /// and an attempt), so that a WAL at a file-size limit fails too. A probe
    /// that only rolls back never reaches the WAL; one that commits a single
    /// page passes where a callback's transaction no longer fits.
    /// ``removeProbe(on:)`` deletes the row in a write of its own.
    static func probeWrite(on db: SQLiteConnection) throws {
        try removeProbe(on: db)
        try db.execute(
            "INSERT INTO schema_version (version, applied_at) VALUES (-1, printf('%.*c', ? * (SELECT page_size FROM pragma_page_size), 'x'))",
            .integer(Int64(probePages)))
    }

    static func removeProbe(on db: SQLiteConnection) throws {
        try db.execute("DELETE FROM schema_version WHERE version = -1")
    }

    /// About the pages a callback's record and its completion write.
    static let probePages = 12

    /// Deletes the events matching `condition` (the oldest `limit` of them,
    /// when given), `deletionBatch` rows per transaction; returns how many.
    private func delete(_ condition: SQLCondition, limit: Int?, action: String) async throws(StoreError) -> Int {
        let sql = Self.deletion(condition, oldestFirst: limit != nil)
        var deleted = 0
        while true {
            let batch = min(deletionBatch, limit.map { max(0, $0) - deleted } ?? .max)
            guard batch > 0 else { return deleted }
            let count = try await write(action) { db in
                try db.execute(sql, parameters: condition.parameters + [.integer(Int64(batch))])
            }
            deleted += count
            if count < batch { return deleted }
        }
    }

    /// Deletes up to `?` (the last parameter) events matching `condition`.
    /// Only a limit needs the order of receipt; without one any order will do.
    static func deletion(_ condition: SQLCondition, oldestFirst: Bool) -> String {
        let order = oldestFirst ? " ORDER BY seq" : ""
        let index = condition.index.map { " INDEXED BY \($0)" } ?? ""
        return "DELETE FROM inbox_events WHERE seq IN "
            + "(SELECT seq FROM inbox_events\(index) WHERE \(condition.sql)\(order) LIMIT ?)"
    }

    // MARK: plumbing

    /// `body` in the next group commit; database failures become ``StoreError``.
    /// Ends every lease in the database, so that the events a killed server
    /// had claimed are claimable now instead of when their leases run out.
    /// Only for the process that owns the database (see ``SQLiteOwnership``),
    /// before it claims anything: no other process can be running them.
    /// Returns how many were released.
    public func releaseAllLeases(now: Date = Date()) async throws(StoreError) -> Int {
        try await write("cannot release the leases of an earlier run") { db in
            try db.execute(
                "UPDATE inbox_events SET lease_until = ?1 WHERE state = 'processing' AND lease_until > ?1", .time(now))
        }
    }

    /// A failure of the database itself is remembered for readiness; only a
    /// success for which `proves` holds (a new event stored: new pages
    /// written) clears it. Updates in place (claims, outcomes) may succeed
    /// on a full disk where a new callback fails, so they do not.
    func write<T: Sendable>(
        _ action: String, proves: (T) -> Bool = { _ in false },
        _ body: @escaping @Sendable (SQLiteConnection) throws -> T
    ) async throws(StoreError) -> T {
        do {
            let value = try await database.write(body)
            if writeHealth.hasFailed && proves(value) { writeHealth.succeeded() }
            return value
        } catch {
            let storeError = StoreError(error, while: action)
            if WriteHealth.counts(error), case .unavailable(let reason) = storeError { writeHealth.failed(reason) }
            throw storeError
        }
    }

    /// `body` on a reader connection; database failures become ``StoreError``.
    func read<T: Sendable>(
        _ action: String, _ body: @escaping @Sendable (SQLiteConnection) throws -> T
    ) async throws(StoreError) -> T {
        do {
            return try await database.read(body)
        } catch {
            throw StoreError(error, while: action)
        }
    }

    static func createDirectory(containing path: String) throws(StoreError) {
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent()
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw .unavailable(
                "cannot create the directory \(directory.path) for the inbox \(path): \(error.localizedDescription)")
        }
    }
}

extension StoreError {
    /// The store error for `error`, thrown while doing `action`: every
    /// failure of the database makes the store unavailable for now.
    init(_ error: any Error, while action: String) {
        if let error = error as? StoreError {
            self = error
        } else {
            self = .unavailable("\(action): \(error)")
        }
    }
}

/// The outcome of the inbox's most recent write, as far as readiness cares:
/// one atomic load per successful write while all is well.
final class WriteHealth: Sendable {
    struct Failure: Sendable {
        var reason: String
        var since: ContinuousClock.Instant
    }
    private let failed = Atomic<Bool>(false)
    private let last = Locked<Failure?>(nil)

    var hasFailed: Bool { failed.load(ordering: .acquiring) }

    /// Why the most recent write failed; nil while it succeeded.
    var failure: Failure? { hasFailed ? last.withLock { $0 } : nil }

    func failed(_ reason: String) {
        last.withLock { last in
            if last == nil { last = Failure(reason: reason, since: .now) } else { last?.reason = reason }
            failed.store(true, ordering: .releasing)
        }
    }

    func succeeded() {
        last.withLock { last in
            last = nil
            failed.store(false, ordering: .releasing)
        }
    }

    /// Whether `error` says the database cannot take writes: not a lock held
    /// elsewhere, a constraint, a closed inbox or a write's own refusal.
    static func counts(_ error: any Error) -> Bool {
        switch error as? SQLiteError {
        case .ioError?, .failed?, .cannotOpen?: true
        case .busy?, .constraintViolation?, .closed?, nil: false
        }
    }
}

extension SQLiteInbox {
    /// Every statement runs on the writer's or a reader's thread.
    public var neverBlocksCaller: Bool { true }

    /// Writes are answered when their batch's COMMIT (an fsync) returns.
    public var writesWaitForGroupCommit: Bool { true }
}
