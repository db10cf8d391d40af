import Deadlines
import Durations
import Foundation
import Inbox
import Locking
import Logging
import PostgresNIO
import ServiceLifecycle

/// An ``IdempotencyStore`` in PostgreSQL, shared by every replica of a
/// merchant's server: a callback delivered to two replicas at once is
/// recorded once, and its handlers run under one lease at a time.
///
/// ```swift
/// let inbox = try await PostgresInbox.connect(
///     url: "postgres://webhooks:secret@db.internal/trustpay", poolSize: 10, logger: logger)
/// var webhooks = WebhookServer(configuration: configuration, store: inbox, logger: logger)
/// …
/// await inbox.shutdown()
/// ```
///
/// It is also a `Service`: in a `ServiceGroup`, list it before the services
/// that use it, so that it shuts down after them.
///
/// - Recording a new event is one statement (`trustpay_record_event`): it
///   locks the order's status row first, so replicas recording events of one
///   order at once see each other's statuses in order, then inserts with
///   `ON CONFLICT DO NOTHING` on the idempotency key and moves the order's
///   last status, in one implicit transaction. Records made at about the
///   same time share that statement and its commit (`trustpay_record_events`,
///   see `writeRecords`). A repeat reads the stored event afterwards.
/// - Workers claim with `FOR UPDATE SKIP LOCKED` and a lease; an expired
///   lease (its replica died) is claimable by any other replica.
/// - Every failure to reach the database, a lost connection or an answer
///   later than `operationTimeout` throws ``StoreError/unavailable(_:)``, so
///   the pipeline answers `503`. The connection pool reconnects on its own
///   when the database is back: the inbox needs no restart. Once a call
///   finds the database unreachable, calls that start new work (recording,
///   claiming, readiness) fail at once, not after `operationTimeout`, until
///   a probe every 250 ms gets an answer (see `Reachability`).
/// - Completed events stay until ``prune(completedBefore:)`` deletes them:
///   the webhook server's retention sweep does, in every replica (deleting
///   twice is harmless); dead letters stay until replayed or purged.
public final class PostgresInbox: InboxAdministration {
    /// The database URL without its password.
    public let databaseDescription: String
    /// Bounds every store call, waiting for a pooled connection included.
    public let operationTimeout: Duration

    let client: PostgresClient
    let logger: Logger
    let driverLogger: Logger
    private let lifecycle = Locked(Lifecycle())
    private let reachability = Reachability()
    /// Between probes of a database found unreachable.
    private let probeInterval: Duration = .milliseconds(250)
    /// Where the pool connects, for finding out why it cannot (see `diagnosed`).
    private let endpoint: PostgresConnection.Configuration?
    /// Attempt endings written together, one commit per batch (see `finish`).
    private let endings: AttemptEndings
    /// New events written together, one commit per batch (see `record`).
    private let records: GroupCommit<RecordRequest, InboxEvent?>

    private struct Lifecycle {
        /// The task ``start()`` runs the background work in; nil when a
        /// `ServiceGroup` runs it (``run()``) or nothing does yet.
        var runner: Task<Void, Never>?
        var started = false
        var stopped = false
        var migrated = false
    }
    /// Background work that starts later (probes, the replica name's
    /// connection), handed to the task group of ``run()``.
    private let jobs: AsyncStream<@Sendable () async -> Void>
    private let jobsContinuation: AsyncStream<@Sendable () async -> Void>.Continuation

    /// The pool's configuration for `url`; nothing is connected until ``start()``.
    ///
    /// - Parameters:
    ///   - poolSize: Connections to the database at most (per replica).
    ///   - operationTimeout: How long a store call may take, waiting for a
    ///     connection included; also the server-side `statement_timeout`.
    public convenience init(
        url: String, poolSize: Int = 10, operationTimeout: Duration = .seconds(5),
        logger: Logger = Logger(label: "trustpay-webhooks.postgres")
    ) throws(DatabaseURLError) {
        let url = try DatabaseURL(url)
        self.init(
            configuration: url.configuration, description: url.description, poolSize: poolSize,
            operationTimeout: operationTimeout, logger: logger)
    }

    /// An inbox on a client configuration of your own (TLS settings,
    /// credentials from elsewhere). Connection and time-out options are
    /// set from the other parameters.
    public init(
        configuration: PostgresClient.Configuration, description: String, poolSize: Int = 10,
        operationTimeout: Duration = .seconds(5), logger: Logger = Logger(label: "trustpay-webhooks.postgres")
    ) {
        precondition(poolSize > 0, "a PostgresInbox needs at least one connection")
        precondition(operationTimeout > .zero, "a PostgresInbox needs a positive operation timeout")
        var configuration = configuration
        configuration.options.maximumConnections = poolSize
        configuration.options.minimumConnections = 0
        configuration.options.connectTimeout = operationTimeout
        // An idle connection that stopped answering is found out and replaced.
        configuration.options.keepAliveBehavior = .init(frequency: .seconds(30))
        let milliseconds = operationTimeout.wholeMilliseconds
        // The server gives up a little before the client would: a statement
        // or lock wait is aborted rather than left running after the request
        // waiting for it was answered 503 (and then perhaps taking effect).
        let serverLimit = max(milliseconds * 3 / 4, 100)
        configuration.options.additionalStartupParameters = [
            ("application_name", "trustpay-webhooks"),
            ("statement_timeout", "\(serverLimit)"),
            ("lock_timeout", "\(serverLimit)"),
            ("idle_in_transaction_session_timeout", "\(max(milliseconds * 2, 10_000))"),
        ]
        var driverLogger = logger
        // The driver traces wire messages, stored bodies included: never below info.
        driverLogger.logLevel = max(logger.logLevel, .info)
        self.client = PostgresClient(configuration: configuration, backgroundLogger: driverLogger)
        if let host = configuration.host {
            endpoint = PostgresConnection.Configuration(
                host: host, port: configuration.port ?? 5432, username: configuration.username,
                password: configuration.password, database: configuration.database, tls: .disable)
        } else if let path = configuration.unixSocketPath {
            endpoint = PostgresConnection.Configuration(
                unixSocketPath: path, username: configuration.username, password: configuration.password,
                database: configuration.database)
        } else {
            endpoint = nil
        }
        (jobs, jobsContinuation) = AsyncStream.makeStream()
        endings = AttemptEndings(timeout: operationTimeout)
        records = GroupCommit(writers: Self.recordWriters(poolSize: poolSize), timeout: operationTimeout)
        self.databaseDescription = description
        self.operationTimeout = operationTimeout
        self.logger = logger
        self.driverLogger = driverLogger
    }

    /// Creates an inbox, starts its pool and brings the schema up to date.
    ///
    /// Throws ``DatabaseURLError`` for a malformed URL and
    /// ``StoreError/unavailable(_:)`` when the database cannot be reached
    /// within `operationTimeout` (nothing is left running then).
    public static func connect(
        url: String, poolSize: Int = 10, operationTimeout: Duration = .seconds(5),
        logger: Logger = Logger(label: "trustpay-webhooks.postgres")
    ) async throws -> PostgresInbox {
        let inbox = try PostgresInbox(
            url: url, poolSize: poolSize, operationTimeout: operationTimeout, logger: logger)
        inbox.start()
        do {
            try await inbox.migrate()
        } catch {
            await inbox.shutdown()
            throw error
        }
        logger.info("PostgreSQL inbox ready", metadata: ["database": "\(inbox.databaseDescription)"])
        return inbox
    }

    /// Starts the connection pool (and the probes) in a task of its
    /// own, for callers that run no `ServiceGroup`; ``shutdown()`` ends it.
    /// Store calls made before the schema is migrated migrate it first.
    public func start() {
        lifecycle.withLock { state in
            guard !state.started, !state.stopped else { return }
            state.started = true
            state.runner = Task { [self] in await runBackground() }
        }
    }

    /// The `Service`: runs the connection pool and the
    /// probes until graceful shutdown or cancellation, then closes the
    /// pool's connections. If ``start()`` already runs them, waits for the
    /// same and then shuts the inbox down.
    public func run() async {
        let runsHere = lifecycle.withLock { state in
            guard !state.started, !state.stopped else { return false }
            state.started = true
            return true
        }
        if runsHere {
            await cancelWhenGracefulShutdown { [self] in await runBackground() }
            lifecycle.withLock { $0.stopped = true }
            jobsContinuation.finish()
            endings.close(because: "the PostgreSQL inbox is shut down")
            records.close(because: "the PostgreSQL inbox is shut down")
        } else {
            try? await gracefulShutdown()
            await shutdown()
        }
    }

    /// Closes the pool's connections; store calls fail from then on.
    public func shutdown() async {
        let runner = lifecycle.withLock { state in
            state.stopped = true
            defer { state.runner = nil }
            return state.runner
        }
        jobsContinuation.finish()
        endings.close(because: "the PostgreSQL inbox is shut down")
        records.close(because: "the PostgreSQL inbox is shut down")
        runner?.cancel()
        await runner?.value
    }

    /// Every background task is a child of this one: it ends when the job
    /// stream does (``shutdown()``) or when it is cancelled.
    private func runBackground() async {
        await withDiscardingTaskGroup { group in
            group.addTask { [client] in await client.run() }
            group.addTask { [self] in await endings.run { batch, timeout in await self.writeEndings(batch, timeout: timeout) } }
            group.addTask { [self] in await records.run { batch, timeout in await self.writeRecords(batch, timeout: timeout) } }
            for await job in jobs {
                group.addTask { await job() }
            }
            group.cancelAll()
        }
    }

    /// Runs `work` in the background until ``shutdown()`` (which cancels it);
    /// false when already shut down.
    func keepRunning(_ work: @escaping @Sendable () async -> Void) -> Bool {
        let open = lifecycle.withLock { !$0.stopped }
        guard open, case .enqueued = jobsContinuation.yield(work) else { return false }
        return true
    }

    /// Applies the schema migrations the database lacks (see `Schema`).
    ///
    /// Fails within ``operationTimeout`` when the database cannot be reached;
    /// once it answers, migrating may take up to a minute (waiting for
    /// another replica that is migrating included).
    public func migrate() async throws {
        try await checkAvailability()
        try await perform(migrating: false, timeout: Schema.timeout) { [self] client in
            try await Schema.migrate(client, logger: driverLogger)
        }
        lifecycle.withLock { $0.migrated = true }
    }

    /// The schema version this release writes.
    public static var schemaVersion: Int { Schema.latestVersion }

    // MARK: recording

    /// A new event is one statement, one round trip, shared with the
    /// records made at about the same time (`GroupCommit`, `writeRecords`):
    /// the unique key answers a repeat, and only when nothing was inserted
    /// is it read why, once the batch is committed: one statement for a
    /// plain repeat (`plainRepeat`), a transaction otherwise.
    public func record(_ new: NewInboxEvent, lease: LeaseRequest, now: Date) async throws -> RecordOutcome {
        if let refusal = refusal(failingFast: true) { throw refusal }
        if let recorded = try await records.submit(RecordRequest(new: new, lease: lease, now: now)) {
            return .recorded(recorded)
        }
        if let repeated = try await plainRepeat(of: new) { return .duplicate(repeated) }
        return try await perform(failingFast: true) { [self] client in
            try await client.withTransaction(logger: driverLogger) { connection in
                try await Self.notInserted(new, now: now, on: connection, logger: driverLogger)
            }
        }
    }

    /// The stored event of `new`'s key when it is a plain repeat (the same
    /// content, or the other source), read in one statement: the usual
    /// reason nothing was inserted (TrustPay redelivers), answered without
    /// the transaction of `notInserted` (BEGIN and COMMIT, two more round
    /// trips). nil when the answer needs `notInserted`: an order-query
    /// answer (its order's first event comes first), an unknown key, a
    /// conflict. It reads what `notInserted` reads first for a callback,
    /// rows committed before it (the insert that gave up waited for them).
    private func plainRepeat(of new: NewInboxEvent) async throws -> InboxEvent? {
        guard new.source != .orderQuery else { return nil }
        let key = new.key.rawValue
        let stored = try await perform(failingFast: true) { [self] client in
            try await client.execute(Prepared<StoredEventOfKey>(Self.bindings(key)), logger: driverLogger).events().first
        }
        guard let stored, stored.contentHash == new.contentHash || stored.source != new.source else { return nil }
        return stored
    }

    /// How many batches of records are written at once: with one, a batch
    /// waits for the previous one's commit; with a few, one batch's
    /// statement runs while another's commit is flushed. (Measured in
    /// BENCHMARKS.md, session 9.)
    static func recordWriters(poolSize: Int) -> Int { max(1, poolSize / 4) }

    /// How many records wait for a batch (not those being written).
    package var recordsWaiting: Int { records.waiting }

    /// Why nothing was inserted, in the order the contract gives (see
    /// ``IdempotencyStore/record(_:lease:now:)``): an order-query answer
    /// matches the first event of its order and status whatever the key; a
    /// known key is a repeat (a duplicate, or a conflict that is counted); a
    /// callback matches a reconciled event. What kept the event out was
    /// committed before the insert gave up (a concurrent insert of the key is
    /// waited for), so no lock is needed to see it; a conflict locks its
    /// event's row.
    private static func notInserted(
        _ new: NewInboxEvent, now: Date, on connection: PostgresConnection, logger: Logger
    ) async throws -> RecordOutcome {
        if new.source == .orderQuery,
            let first = try await firstEvent(of: new, source: nil, on: connection, logger: logger)
        {
            return .duplicate(first)
        }
        // The key is known: a repeat of the same content, or a conflict.
        let existing = try await connection.query(
            "SELECT \(unescaped: eventColumns) FROM trustpay_events WHERE idempotency_key = \(new.key.rawValue)",
            logger: logger
        ).events()
        guard let event = existing.first else {
            if new.source == .callback,
                let reconciled = try await firstEvent(of: new, source: .orderQuery, on: connection, logger: logger)
            {
                return .duplicate(reconciled)
            }
            // Purged between the insert and this read: start over.
            throw UnexpectedlyEmpty(what: "the event with a known key")
        }
        // A callback and an order-query answer differ by nature, not by conflict.
        if event.contentHash == new.contentHash || event.source != new.source { return .duplicate(event) }
        let counted = try await connection.query(
            """
            UPDATE trustpay_events SET conflicts = conflicts + 1 WHERE id = \(event.id)
            RETURNING \(unescaped: eventColumns)
            """, logger: logger
        ).events()
        guard let conflicted = counted.first else { throw UnexpectedlyEmpty(what: "the conflicting event") }
        // Only a conflict writes here. A statement of its own, after the
        // row lock above, so that concurrent conflicts count each other's copies.
        try await connection.query(
            """
            INSERT INTO trustpay_conflicting_copies (event_id, content_hash, raw_body, received_at)
            SELECT \(event.id), \(new.contentHash), \(ByteBuffer(bytes: new.rawBody)), \(new.receivedAt)
            WHERE (SELECT count(*) FROM trustpay_conflicting_copies WHERE event_id = \(event.id))
                < \(EventHistory.copiesKept)
            ON CONFLICT (event_id, content_hash) DO NOTHING
            """, logger: logger)
        return .conflict(conflicted)
    }

    /// The first stored event of `new`'s order and status (of `source`, when given).
    private static func firstEvent(
        of new: NewInboxEvent, source: EventSource?, on connection: PostgresConnection, logger: Logger
    ) async throws -> InboxEvent? {
        try await connection.query(
            """
            SELECT \(unescaped: eventColumns) FROM trustpay_events
            WHERE order_ref = \(new.order.rawValue) AND status = \(new.status)
                AND (\(source?.rawValue)::text IS NULL OR source = \(source?.rawValue))
            ORDER BY seq LIMIT 1
            """, logger: logger
        ).events().first
    }

    // MARK: claiming and finishing

    public func claim(id: String, owner: String, leaseDuration: Duration, now: Date) async throws -> InboxEvent? {
        let until = now.adding(leaseDuration)
        return try await perform(failingFast: true) { [self] client in
            try await client.query(
                """
                UPDATE trustpay_events
                SET state = 'processing', lease_owner = \(owner), state_at = \(until), attempts = attempts + 1
                WHERE id = \(id)
                    AND (state IN ('pending', 'waiting-retry') OR (state = 'processing' AND state_at <= \(now)))
                RETURNING \(unescaped: eventColumns)
                """, logger: driverLogger
            ).events().first
        }
    }

    public func claimDue(owner: String, limit: Int, leaseDuration: Duration, now: Date) async throws -> [InboxEvent] {
        guard limit > 0 else { return [] }
        let until = now.adding(leaseDuration)
        return try await perform(failingFast: true) { [self] client in
            // SKIP LOCKED: replicas claiming at once take different events
            // instead of queueing behind each other's row locks. NOT held:
            // only the first unfinished event of each order (migration 3).
            // NOT EXISTS checks that directly, so no slip in the triggers can
            // run two events of one order at once: a replica that skips a
            // locked earlier event still sees it unfinished, and an order's
            // events are numbered in commit order (its status row is locked
            // before the insert).
            // `trustpay_claim_due` (migration 11), planned once per connection.
            try await client.execute(Prepared<ClaimDue>(Self.bindings(owner, until, now, limit)), logger: driverLogger).events()
        }
    }

    public func complete(id: String, owner: String, attempt: HandlerAttempt) async throws -> Bool {
        try await finish(id: id, owner: owner, as: .completed(at: attempt.endedAt), attempt: attempt)
    }

    public func fail(id: String, owner: String, attempt: HandlerAttempt, retryAt: Date) async throws -> Bool {
        try await finish(id: id, owner: owner, as: .waitingRetry(nextAttemptAt: retryAt), attempt: attempt)
    }

    public func deadLetter(id: String, owner: String, attempt: HandlerAttempt) async throws -> Bool {
        try await finish(id: id, owner: owner, as: .dead(at: attempt.endedAt), attempt: attempt)
    }

    /// Ends an attempt, only for the lease's current owner, and keeps it in
    /// the event's history (as lease-lost for anyone else), dropping
    /// attempts beyond the last ``EventHistory/attemptsKept``: one statement
    /// and one commit, shared with the attempts ending at about the same
    /// time (`AttemptEndings`, `writeEndings`). Never refused while the
    /// database seems unreachable: a false alarm must not run a handler twice.
    private func finish(id: String, owner: String, as state: EventState, attempt: HandlerAttempt) async throws -> Bool {
        // Before start() nothing writes batches: fail as `perform` would.
        if let refusal = refusal(failingFast: false) { throw refusal }
        let columns = state.columns
        return try await endings.end(
            AttemptEnding(id: id, owner: owner, state: columns.name, stateAt: columns.at ?? attempt.endedAt, attempt: attempt))
    }

    public func history(id: String) async throws -> EventHistory {
        try await perform(failingFast: true) { [self] client in
            var history = EventHistory()
            let attempts = try await client.query(
                """
                SELECT number, started_at, ended_at, outcome, error FROM trustpay_attempts
                WHERE event_id = \(id) ORDER BY seq
                """, logger: driverLogger)
            for try await (number, startedAt, endedAt, outcomeName, error) in attempts.decode(
                (Int, Date, Date, String, String?).self)
            {
                guard let outcome = HandlerAttempt.Outcome(rawValue: outcomeName) else {
                    throw UnreadableEvent(id: id, what: "an attempt with the outcome \(outcomeName)")
                }
                history.attempts.append(
                    HandlerAttempt(number: number, startedAt: startedAt, endedAt: endedAt, outcome: outcome, error: error))
            }
            let copies = try await client.query(
                """
                SELECT content_hash, raw_body, received_at FROM trustpay_conflicting_copies
                WHERE event_id = \(id) ORDER BY seq
                """, logger: driverLogger)
            for try await (hash, body, receivedAt) in copies.decode((String, ByteBuffer, Date).self) {
                history.conflictingCopies.append(
                    ConflictingCopy(contentHash: hash, rawBody: Array(body.readableBytesView), receivedAt: receivedAt))
            }
            return history
        }
    }

    // MARK: reading and operating

    public func event(id: String) async throws -> InboxEvent? {
        try await perform(failingFast: true) { [self] client in
            try await client.query(
                "SELECT \(unescaped: eventColumns) FROM trustpay_events WHERE id = \(id)", logger: driverLogger
            ).events().first
        }
    }

    public func list(_ filter: EventFilter) async throws -> [InboxEvent] {
        var binds = PostgresBindings()
        let condition = filter.condition(binds: &binds)
        let limit = filter.limitClause(binds: &binds)
        let order = filter.newestFirst ? "seq DESC" : "seq"
        let query = PostgresQuery(
            unsafeSQL: "SELECT \(eventColumns) FROM trustpay_events WHERE \(condition) ORDER BY \(order) \(limit)",
            binds: binds)
        return try await perform { [self] client in try await client.query(query, logger: driverLogger).events() }
    }

    public func count(_ filter: EventFilter) async throws -> Int {
        var binds = PostgresBindings()
        let condition = filter.condition(binds: &binds)
        let query = PostgresQuery(unsafeSQL: "SELECT count(*) FROM trustpay_events WHERE \(condition)", binds: binds)
        return try await perform { [self] client in
            let rows = try await client.query(query, logger: driverLogger).collect()
            return try rows.first?.decode(Int.self) ?? 0
        }
    }

    public func replay(id: String, now: Date) async throws -> InboxEvent? {
        try await perform { [self] client in
            try await client.query(
                """
                UPDATE trustpay_events SET state = 'pending', lease_owner = NULL, state_at = NULL, attempts = 0
                WHERE id = \(id) AND NOT (state = 'processing' AND state_at > \(now))
                RETURNING \(unescaped: eventColumns)
                """, logger: driverLogger
            ).events().first
        }
    }

    public func purge(_ filter: EventFilter) async throws -> Int {
        var filter = filter
        filter.offset = nil  // listings only
        var binds = PostgresBindings()
        let condition = filter.condition(binds: &binds)
        binds.append(Date())
        let inProgress = "state = 'processing' AND state_at > $\(binds.count)"
        let limit = filter.limitClause(binds: &binds)
        let doomed = PostgresQuery(
            unsafeSQL: "SELECT id FROM trustpay_events WHERE \(condition) AND NOT (\(inProgress)) ORDER BY seq \(limit)",
            binds: binds)
        return try await perform { [self] client in
            try await Self.delete(doomed, client: client, logger: driverLogger)
        }
    }

    public func prune(completedBefore date: Date) async throws -> Int {
        var total = 0
        // In batches, so that no transaction holds many row locks for long.
        while true {
            let deleted = try await perform { [self] client in
                try await Self.delete(
                    """
                    SELECT id FROM trustpay_events WHERE state = 'completed' AND state_at < \(date)
                    ORDER BY state_at LIMIT \(Self.pruneBatch)
                    """, client: client, logger: driverLogger)
            }
            total += deleted
            if deleted < Self.pruneBatch { return total }
        }
    }

    static let pruneBatch = 1000

    /// Deletes the events whose ids `selection` returns, and forgets the last
    /// status of orders left without events (as if never seen).
    private static func delete(_ selection: PostgresQuery, client: PostgresClient, logger: Logger) async throws -> Int {
        try await client.withTransaction(logger: logger) { connection in
            let query = PostgresQuery(
                unsafeSQL: """
                    WITH gone AS (
                        DELETE FROM trustpay_events WHERE id IN (\(selection.sql) FOR UPDATE)
                        RETURNING order_ref
                    ),
                    counted AS (SELECT order_ref, count(*) AS n FROM gone GROUP BY order_ref),
                    updated AS (
                        UPDATE trustpay_order_status AS o SET events = o.events - counted.n
                        FROM counted WHERE o.order_ref = counted.order_ref
                        RETURNING o.order_ref, o.events
                    )
                    SELECT (SELECT count(*) FROM gone),
                        coalesce((SELECT array_agg(order_ref) FROM updated WHERE events <= 0), '{}')
                    """, binds: selection.binds)
            let rows = try await connection.query(query, logger: logger).collect()
            guard let (count, emptied) = try rows.first?.decode((Int, [String]).self) else {
                throw UnexpectedlyEmpty(what: "the count of deleted events")
            }
            if !emptied.isEmpty {
                // Re-checked under the row lock: an event recorded meanwhile keeps the row.
                try await connection.query(
                    "DELETE FROM trustpay_order_status WHERE order_ref = ANY(\(emptied)) AND events <= 0",
                    logger: logger)
            }
            return count
        }
    }

    public func checkAvailability() async throws {
        try await perform(migrating: false, failingFast: true) { [self] client in
            _ = try await client.query("SELECT 1", logger: driverLogger).collect()
        }
    }

    // MARK: running queries

    /// Runs `body` within ``operationTimeout``, after the migrations when
    /// they have not run yet, again when the server aborted it as one side
    /// of a deadlock, and with every failure as ``StoreError/unavailable(_:)``.
    /// `failingFast`: refused at once while the database is unreachable.
    func perform<Value: Sendable>(
        migrating: Bool = true, failingFast: Bool = false, timeout: Duration? = nil,
        _ body: @escaping @Sendable (PostgresClient) async throws -> Value
    ) async throws -> Value {
        let timeout = timeout ?? operationTimeout
        if let refusal = refusal(failingFast: failingFast) { throw refusal }
        let needsMigration = migrating && !lifecycle.withLock { $0.migrated }
        do {
            // Abandoned at the deadline: PostgresNIO does not stop waiting for
            // the answer to a query already sent when cancelled, and on a
            // connection that silently stopped answering that could take as
            // long as TCP gives up (see `withDeadline`).
            let value = try await withDeadline(timeout) { [self] in
                if needsMigration {
                    try await Schema.migrate(client, logger: driverLogger)
                    lifecycle.withLock { $0.migrated = true }
                }
                var attempt = 1
                while true {
                    do {
                        return try await body(client)
                    } catch let error where attempt < 3 && DatabaseFailure.isTransient(error) {
                        attempt += 1
                    }
                }
            }.get()
            answered()
            return value
        } catch {
            var failure = DatabaseFailure.storeError(error, timeout: timeout)
            if DatabaseFailure.isTimeout(error), let reason = await connectionFailure() {
                // The pool keeps a call waiting for a connection it cannot make
                // until the deadline: say why it cannot, not only that time ran out.
                failure = .unavailable("\(reason) (no connection within \(timeout))")
            }
            logger.debug("PostgreSQL inbox call failed", metadata: ["error": "\(failure)"])
            if DatabaseFailure.meansUnreachable(error) { unreachable(failure) }
            throw failure
        }
    }

    /// Why a call is refused before it starts: the inbox is not started or
    /// is shut down, or (`failingFast`) the database was found unreachable.
    private func refusal(failingFast: Bool) -> StoreError? {
        let state = lifecycle.withLock { $0 }
        if state.stopped { return .unavailable("the PostgreSQL inbox is shut down") }
        if !state.started { return .unavailable("the PostgreSQL inbox is not started") }
        return failingFast ? reachability.refusal() : nil
    }

    /// The database answered: calls are let through again.
    private func answered() {
        guard let downFor = reachability.markUp() else { return }
        logger.notice(
            "PostgreSQL answers again; callbacks are recorded again",
            metadata: ["unreachable_for": "\(downFor)"])
    }

    /// A call found the database unreachable: refuse new work at once, and
    /// probe until it answers (the pool reconnects on its own meanwhile).
    private func unreachable(_ failure: StoreError) {
        guard reachability.markDown("\(failure)") else { return }
        logger.error(
            "PostgreSQL unreachable; callbacks are answered 503 at once until it answers again",
            metadata: ["error": "\(failure)"])
        _ = keepRunning { [weak self] in await self?.probeUntilAnswered() }
    }

    /// Why a connection of its own to the database fails (connection
    /// refused, no such host…); nil when it connects or gets further than
    /// the connection (then the database is slow, not unreachable).
    private func connectionFailure() async -> String? {
        guard var endpoint else { return nil }
        endpoint.options.connectTimeout = .milliseconds(min(operationTimeout.wholeMilliseconds, 2000))
        do {
            let connection = try await PostgresConnection.connect(configuration: endpoint, id: 0, logger: driverLogger)
            try? await connection.close()
            return nil
        } catch let error as PSQLError where error.code == .connectionError {
            guard case .unavailable(let reason) = DatabaseFailure.storeError(error, timeout: operationTimeout) else { return nil }
            return reason
        } catch {
            return nil
        }
    }

    private func probeUntilAnswered() async {
        while !Task.isCancelled {
            do {
                try await Task.sleep(for: probeInterval)
                try await perform(migrating: false) { [self] client in
                    _ = try await client.query("SELECT 1", logger: driverLogger).collect()
                }
                return
            } catch is CancellationError {
                return
            } catch {
                continue  // still unreachable, or refused: probe again
            }
        }
    }
}

/// A statement that always returns a row returned none: the row it read was
/// deleted by a concurrent transaction. Running the transaction again helps.
struct UnexpectedlyEmpty: Error, CustomStringConvertible {
    let what: String
    var description: String { "no row for \(what): changed concurrently" }
}

extension PostgresInbox: Service {}

extension PostgresInbox {
    /// Every query goes through PostgresNIO's event loops.
    public var neverBlocksCaller: Bool { true }

    /// Records and attempt endings are group-committed (``GroupCommit``),
    /// so the workers take new events while their last outcomes commit.
    /// Session 14 kept the batch-at-a-time loop here because `wrk`
    /// acknowledged more callbacks with it; but the workers then waited
    /// for each batch's commit, a round trip on a loaded machine, and fell
    /// behind: 3,000 events handled per second against 5,500 acknowledged,
    /// the rest piling up pending (BENCHMARKS.md, session 21).
    public var writesWaitForGroupCommit: Bool { true }
}
