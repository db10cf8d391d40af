import Logging
import PostgresNIO

/// The inbox's tables, created and upgraded by numbered migrations.
///
/// Every replica runs ``migrate(_:logger:)`` at start. It takes a
/// transaction-scoped advisory lock first, so replicas starting together
/// apply each migration once, one after the other; DDL is transactional in
/// PostgreSQL, so a migration is applied whole or not at all, together with
/// its row in `trustpay_schema_version`.
///
/// Times are `timestamptz` (microseconds; operators can read and compare
/// them in `psql`), bodies `bytea` exactly as posted.
enum Schema {
    struct Migration {
        let version: Int
        let summary: String
        let statements: [String]
    }

    /// Taken by `pg_advisory_xact_lock` while migrating ("TPWHINBX").
    static let advisoryLockKey: Int64 = 0x5450_5748_494E_4258

    static let migrations: [Migration] = [
        Migration(
            version: 1, summary: "events and the last status of each order",
            statements: [
                """
                CREATE TABLE trustpay_events (
                    id text PRIMARY KEY,
                    seq bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
                    idempotency_key text NOT NULL UNIQUE,
                    content_hash text NOT NULL,
                    kind text NOT NULL CHECK (kind IN ('payment', 'card')),
                    merchant_id bigint NOT NULL,
                    order_type integer,
                    order_no text NOT NULL,
                    status integer NOT NULL,
                    order_ref text NOT NULL,
                    previous_status integer,
                    is_stale boolean NOT NULL,
                    raw_body bytea NOT NULL,
                    received_at timestamptz NOT NULL,
                    state text NOT NULL
                        CHECK (state IN ('pending', 'processing', 'completed', 'waiting-retry', 'dead')),
                    lease_owner text CHECK ((state = 'processing') = (lease_owner IS NOT NULL)),
                    -- processing: lease end; waiting-retry: next attempt; completed, dead: when.
                    state_at timestamptz CHECK ((state = 'pending') = (state_at IS NULL)),
                    attempts integer NOT NULL DEFAULT 0,
                    last_error text,
                    conflicts integer NOT NULL DEFAULT 0,
                    -- From when a worker may claim the event; NULL once it is finished.
                    claimable_at timestamptz GENERATED ALWAYS AS (
                        CASE state
                            WHEN 'pending' THEN timestamptz '-infinity'
                            WHEN 'processing' THEN state_at
                            WHEN 'waiting-retry' THEN state_at
                        END) STORED
                )
                """,
                // claimDue: only unfinished events are in it.
                "CREATE INDEX trustpay_events_claimable ON trustpay_events (claimable_at) WHERE claimable_at IS NOT NULL",
                // prune(completedBefore:).
                "CREATE INDEX trustpay_events_completed ON trustpay_events (state_at) WHERE state = 'completed'",
                // Listing dead letters, oldest first.
                "CREATE INDEX trustpay_events_dead ON trustpay_events (seq) WHERE state = 'dead'",
                // list filters: an order, a merchant, a time range.
                "CREATE INDEX trustpay_events_order_no ON trustpay_events (order_no)",
                "CREATE INDEX trustpay_events_merchant ON trustpay_events (merchant_id, seq)",
                "CREATE INDEX trustpay_events_received ON trustpay_events (received_at)",
                """
                CREATE TABLE trustpay_order_status (
                    order_ref text PRIMARY KEY,
                    -- The last status that moved the order forward; NULL before its first event.
                    status integer,
                    status_rank integer,
                    -- Stored events of the order: the row goes with the last of them.
                    events integer NOT NULL
                )
                """,
            ]),
        Migration(
            version: 2, summary: "claim in index order, without sorting the backlog",
            statements: [
                // Pending events (claimable from -infinity) in receipt order,
                // then the others by due time: claimDue reads the index in
                // order and stops at its limit.
                "CREATE INDEX trustpay_events_claim_order ON trustpay_events (claimable_at, seq) WHERE claimable_at IS NOT NULL",
                "DROP INDEX trustpay_events_claimable",
            ]),
        Migration(
            version: 3, summary: "handle one event of an order at a time",
            statements: [
                // Of an order's unfinished events only the first is
                // claimable; the others are held, kept so by the triggers
                // below and left out of the claim index, so a claim never
                // reads the events waiting behind others.
                "ALTER TABLE trustpay_events ADD COLUMN held boolean NOT NULL DEFAULT false",
                "CREATE INDEX trustpay_events_open_by_order ON trustpay_events (order_ref, seq) WHERE claimable_at IS NOT NULL",
                """
                CREATE INDEX trustpay_events_claim_free ON trustpay_events (claimable_at, seq)
                    WHERE claimable_at IS NOT NULL AND NOT held
                """,
                "DROP INDEX trustpay_events_claim_order",
                """
                UPDATE trustpay_events AS e SET held = true
                WHERE claimable_at IS NOT NULL AND EXISTS (
                    SELECT 1 FROM trustpay_events AS earlier
                    WHERE earlier.order_ref = e.order_ref AND earlier.seq < e.seq AND earlier.claimable_at IS NOT NULL)
                """,
                // A new event is held if its order has an unfinished one,
                // set before the insert so that the row is written once.
                // The unfinished ones are share-locked: one being finished
                // meanwhile is waited for and then seen finished, and one
                // finished later waits for this insert and then releases it.
                """
                CREATE FUNCTION trustpay_events_hold_new() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    PERFORM 1 FROM trustpay_events
                    WHERE order_ref = NEW.order_ref AND seq < NEW.seq AND claimable_at IS NOT NULL
                    ORDER BY seq FOR SHARE;
                    NEW.held := FOUND;
                    RETURN NEW;
                END
                $$
                """,
                // After an event of the order finished, came back (a replay)
                // or was deleted: holds every unfinished event but the
                // first, writing only the rows whose hold changes. Locking
                // them first, in order, makes two such changes to one order
                // take turns, each seeing the other's result.
                """
                CREATE FUNCTION trustpay_events_rehold() RETURNS trigger LANGUAGE plpgsql AS $$
                DECLARE
                    ref text := CASE TG_OP WHEN 'DELETE' THEN OLD.order_ref ELSE NEW.order_ref END;
                BEGIN
                    PERFORM 1 FROM trustpay_events
                    WHERE order_ref = ref AND claimable_at IS NOT NULL ORDER BY seq FOR UPDATE;
                    UPDATE trustpay_events AS e SET held = NOT e.held
                    FROM (SELECT min(seq) AS seq FROM trustpay_events
                          WHERE order_ref = ref AND claimable_at IS NOT NULL) AS first
                    WHERE e.order_ref = ref AND e.claimable_at IS NOT NULL AND e.held <> (e.seq > first.seq);
                    RETURN NULL;
                END
                $$
                """,
                """
                CREATE TRIGGER trustpay_events_hold_on_insert BEFORE INSERT ON trustpay_events
                FOR EACH ROW WHEN (NEW.state IN ('pending', 'processing', 'waiting-retry'))
                EXECUTE FUNCTION trustpay_events_hold_new()
                """,
                """
                CREATE TRIGGER trustpay_events_hold_on_finish AFTER UPDATE OF state ON trustpay_events
                FOR EACH ROW WHEN ((OLD.state IN ('pending', 'processing', 'waiting-retry'))
                    <> (NEW.state IN ('pending', 'processing', 'waiting-retry')))
                EXECUTE FUNCTION trustpay_events_rehold()
                """,
                """
                CREATE TRIGGER trustpay_events_hold_on_delete AFTER DELETE ON trustpay_events
                FOR EACH ROW WHEN (OLD.state IN ('pending', 'processing', 'waiting-retry'))
                EXECUTE FUNCTION trustpay_events_rehold()
                """,
            ]),
        Migration(
            version: 4, summary: "replica names and incarnations",
            statements: [
                """
                CREATE TABLE trustpay_replicas (
                    name text PRIMARY KEY,
                    incarnation bigint NOT NULL,
                    started_at timestamptz NOT NULL
                )
                """,
            ]),
        Migration(
            version: 5, summary: "handler attempts and conflicting copies of each event",
            statements: [
                // What an operator sees of an event beyond its row
                // (EventHistory): its last 50 handler attempts, kept by the
                // statement that finishes each, and its first 10 distinct
                // conflicting copies. Both go with their event.
                """
                CREATE TABLE trustpay_attempts (
                    seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                    event_id text NOT NULL REFERENCES trustpay_events (id) ON DELETE CASCADE,
                    number integer NOT NULL,
                    started_at timestamptz NOT NULL,
                    ended_at timestamptz NOT NULL,
                    outcome text NOT NULL CHECK (outcome IN ('handled', 'failed', 'timed-out', 'lease-lost')),
                    error text
                )
                """,
                "CREATE INDEX trustpay_attempts_event ON trustpay_attempts (event_id, seq)",
                """
                CREATE TABLE trustpay_conflicting_copies (
                    seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                    event_id text NOT NULL REFERENCES trustpay_events (id) ON DELETE CASCADE,
                    content_hash text NOT NULL,
                    raw_body bytea NOT NULL,
                    received_at timestamptz NOT NULL,
                    UNIQUE (event_id, content_hash)
                )
                """,
            ]),
        Migration(
            version: 6, summary: "reconciliation: event sources, expected orders, order query leases",
            statements: [
                // Every earlier event is a callback.
                """
                ALTER TABLE trustpay_events ADD COLUMN source text NOT NULL DEFAULT 'callback'
                    CHECK (source IN ('callback', 'order-query'))
                """,
                // An order-query event and a callback of one order and status are one event.
                "CREATE INDEX trustpay_events_order_status ON trustpay_events (order_ref, status, seq)",
                """
                CREATE TABLE trustpay_expected_orders (
                    order_ref text PRIMARY KEY,
                    merchant_id bigint NOT NULL,
                    order_type integer NOT NULL,
                    order_no text NOT NULL,
                    expected_at timestamptz NOT NULL
                )
                """,
                "CREATE INDEX trustpay_expected_orders_at ON trustpay_expected_orders (expected_at)",
                // One replica queries an order at a time: the lease's holder.
                """
                CREATE TABLE trustpay_order_query_leases (
                    order_ref text PRIMARY KEY,
                    owner text NOT NULL,
                    lease_until timestamptz NOT NULL
                )
                """,
            ]),
        Migration(
            version: 7, summary: "record a callback in one statement",
            statements: [
                // What `record` does for a new event, in one round trip and
                // one implicit transaction: lock the order's status row
                // (replicas recording events of one order queue here), then,
                // each statement seeing what committed before the lock (a
                // function's statements take fresh snapshots; one SQL
                // statement would not), insert the event unless a
                // reconciled event of its order and status stands for it,
                // stale against the order's last rank and leased as asked
                // (0 never, 1 always, 2 if no event of its order is
                // unfinished), and move the order's last status. Returns
                // the new row, or none: the caller then reads why (a
                // repeated key, a reconciled event).
                """
                CREATE FUNCTION trustpay_record_event(
                    p_id text, p_key text, p_hash text, p_kind text, p_merchant_id bigint, p_order_type integer,
                    p_order_no text, p_status integer, p_order_ref text, p_rank integer, p_body bytea,
                    p_received_at timestamptz, p_source text, p_lease integer, p_owner text, p_lease_until timestamptz)
                RETURNS SETOF trustpay_events LANGUAGE plpgsql AS $$
                DECLARE
                    last_status integer;
                    last_rank integer;
                    stale boolean;
                    granted boolean;
                    recorded trustpay_events;
                BEGIN
                    INSERT INTO trustpay_order_status AS o (order_ref, events) VALUES (p_order_ref, 0)
                    ON CONFLICT (order_ref) DO UPDATE SET events = o.events
                    RETURNING o.status, o.status_rank INTO last_status, last_rank;
                    PERFORM 1 FROM trustpay_events
                    WHERE order_ref = p_order_ref AND status = p_status
                        AND (p_source = 'order-query' OR source = 'order-query')
                    LIMIT 1;
                    IF FOUND THEN
                        RETURN;
                    END IF;
                    stale := coalesce(p_rank < last_rank, false);
                    granted := CASE p_lease WHEN 0 THEN false WHEN 1 THEN true ELSE NOT EXISTS (
                        SELECT 1 FROM trustpay_events WHERE order_ref = p_order_ref AND claimable_at IS NOT NULL) END;
                    INSERT INTO trustpay_events (
                        id, idempotency_key, content_hash, kind, merchant_id, order_type, order_no, status, order_ref,
                        previous_status, is_stale, raw_body, received_at, state, lease_owner, state_at, attempts, source)
                    VALUES (
                        p_id, p_key, p_hash, p_kind, p_merchant_id, p_order_type, p_order_no, p_status, p_order_ref,
                        last_status, stale, p_body, p_received_at,
                        CASE WHEN granted THEN 'processing' ELSE 'pending' END,
                        CASE WHEN granted THEN p_owner END, CASE WHEN granted THEN p_lease_until END,
                        CASE WHEN granted THEN 1 ELSE 0 END, p_source)
                    ON CONFLICT (idempotency_key) DO NOTHING
                    RETURNING * INTO recorded;
                    IF NOT FOUND THEN
                        RETURN;
                    END IF;
                    -- A stale event leaves the order where it was; an
                    -- unranked one moves the status but keeps the last rank.
                    UPDATE trustpay_order_status
                    SET status = CASE WHEN stale THEN status ELSE p_status END,
                        status_rank = CASE WHEN stale THEN status_rank ELSE coalesce(p_rank, status_rank) END,
                        events = events + 1
                    WHERE order_ref = p_order_ref;
                    RETURN NEXT recorded;
                END
                $$
                """,
            ]),
        Migration(
            version: 8, summary: "record callbacks in batches",
            statements: [
                // Group commit of new events: a batch of `record` calls in
                // one statement and one commit. Each event is recorded as
                // `trustpay_record_event` records one, in turn, in one
                // transaction, so that each sees the ones before it as one
                // call after another would. Returns the recorded rows with
                // their place in the arrays (from 1); an event not inserted
                // has no row. An optional value comes with a flag (the
                // client binds no arrays holding NULLs).
                """
                CREATE FUNCTION trustpay_record_events(
                    p_id text[], p_key text[], p_hash text[], p_kind text[], p_merchant_id bigint[],
                    p_order_type integer[], p_has_order_type boolean[], p_order_no text[], p_status integer[],
                    p_order_ref text[], p_rank integer[], p_has_rank boolean[], p_body bytea[],
                    p_received_at timestamptz[], p_source text[], p_lease integer[], p_owner text[],
                    p_lease_until timestamptz[])
                RETURNS TABLE (ord integer, recorded trustpay_events) LANGUAGE plpgsql AS $$
                BEGIN
                    FOR i IN 1 .. coalesce(array_length(p_id, 1), 0) LOOP
                        SELECT * INTO recorded FROM trustpay_record_event(
                            p_id[i], p_key[i], p_hash[i], p_kind[i], p_merchant_id[i],
                            CASE WHEN p_has_order_type[i] THEN p_order_type[i] END, p_order_no[i], p_status[i],
                            p_order_ref[i], CASE WHEN p_has_rank[i] THEN p_rank[i] END, p_body[i],
                            p_received_at[i], p_source[i], p_lease[i], p_owner[i], p_lease_until[i]);
                        IF FOUND THEN
                            ord := i;
                            RETURN NEXT;
                        END IF;
                    END LOOP;
                END
                $$
                """,
            ]),
        Migration(
            version: 9, summary: "record without a row trigger, finish without a needless update",
            statements: [
                // Session 11 (BENCHMARKS.md): backend CPU per callback went
                // to per-statement work, not to the indexes. The hold of a
                // new event is set by `trustpay_record_event` itself, from
                // the query that also decides its lease, so an insert runs
                // no PL/pgSQL trigger and one query fewer. Every insert goes
                // through that function (replicas of release 8 still
                // running call the new one: it lives in the database).
                "DROP TRIGGER trustpay_events_hold_on_insert ON trustpay_events",
                "DROP FUNCTION trustpay_events_hold_new()",
                // As in migration 7, but the order's unfinished events are
                // share-locked as the dropped trigger did (one being
                // finished meanwhile is waited for and then seen finished,
                // one finished later waits for this insert and then
                // releases it), and the same answer holds the new event and
                // decides a lease "if first of its order". Under the order's
                // status row lock every event seen is earlier than this one.
                recordEventFunction(marksFollowed: false),
                // As in migration 3, but an order left with no unfinished
                // event (a completion's usual case) has nothing to release:
                // the update is skipped rather than run to change nothing.
                reholdFunction(marksFollowed: false),
            ]),
        Migration(
            version: 10, summary: "record a batch's events of distinct orders set-based",
            statements: [
                // See `recordEventsFunction`.
                recordEventsFunction(copiesTogether: false),
            ]),
        plannedOnce,
        claimPlan,
        finishReholdsOnlyFollowed,
    ]

    static var latestVersion: Int { migrations.last?.version ?? 0 }

    /// How long migrating may take, waiting for another replica's migration
    /// included: longer than a store call may, as it runs once, at start.
    static let timeout: Duration = .seconds(60)

    /// Applies the migrations the database lacks, up to `target` (tests
    /// make databases of earlier releases with it); refuses a database that
    /// a newer release has migrated further.
    static func migrate(_ client: PostgresClient, upTo target: Int = latestVersion, logger: Logger) async throws {
        try await client.withTransaction(logger: logger) { connection in
            // The session's limits are sized for store calls; DDL on a busy
            // database, or waiting for another replica's migration, may take longer.
            try await connection.query("SET LOCAL statement_timeout = '60s'", logger: logger)
            try await connection.query("SET LOCAL lock_timeout = '60s'", logger: logger)
            try await connection.query("SELECT pg_advisory_xact_lock(\(advisoryLockKey))", logger: logger)
            try await connection.query(
                """
                CREATE TABLE IF NOT EXISTS trustpay_schema_version (
                    version integer PRIMARY KEY,
                    summary text NOT NULL,
                    applied_at timestamptz NOT NULL DEFAULT now()
                )
                """, logger: logger)
            var current = 0
            for try await version in try await connection.query(
                "SELECT coalesce(max(version), 0) FROM trustpay_schema_version", logger: logger
            ).decode(Int.self) {
                current = version
            }
            guard current <= latestVersion else {
                throw SchemaError.newer(found: current, known: latestVersion)
            }
            for migration in migrations where migration.version > current && migration.version <= target {
                for statement in migration.statements {
                    try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                }
                try await connection.query(
                    """
                    INSERT INTO trustpay_schema_version (version, summary)
                    VALUES (\(migration.version), \(migration.summary))
                    """, logger: logger)
                logger.info(
                    "inbox schema migrated", metadata: ["version": "\(migration.version)", "summary": "\(migration.summary)"])
            }
        }
    }
}

/// Why the inbox cannot use a database's schema.
public enum SchemaError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A newer release migrated the database further than this one knows.
    case newer(found: Int, known: Int)

    public var description: String {
        switch self {
        case .newer(let found, let known):
            "the database's inbox schema is version \(found), newer than this release knows (\(known)): "
                + "run a release at least as new as the one that migrated it"
        }
    }
}
