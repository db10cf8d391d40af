import SQLiteStore

/// The inbox's tables, as migrations for `SchemaMigrator`. Shipped
/// migrations are never edited: a change is a new one at the end.
///
/// Times are integer milliseconds since 1970 (UTC). Each state has its own
/// columns, set in that state and null in every other (the CHECKs): a
/// `processing` event has `lease_owner` and `lease_until`, a waiting one
/// `next_attempt_at`, a completed one `completed_at`, a dead one `dead_at`.
enum InboxSchema {
    static let migrations = [version1, version2, version3, version4, version5, version6, version7, version8, version9, version10, version11]

    static let version1 = Migration(version: 1, sql: """
        CREATE TABLE inbox_events (
            seq             INTEGER PRIMARY KEY,  -- order of receipt
            id              TEXT    NOT NULL UNIQUE,
            idempotency_key TEXT    NOT NULL UNIQUE,
            content_hash    TEXT    NOT NULL,
            kind            TEXT    NOT NULL CHECK (kind IN ('payment', 'card')),
            merchant_id     INTEGER NOT NULL,
            order_type      INTEGER,
            order_no        TEXT    NOT NULL,
            status          INTEGER NOT NULL,
            order_ref       TEXT    NOT NULL,
            previous_status INTEGER,
            is_stale        INTEGER NOT NULL CHECK (is_stale IN (0, 1)),
            raw_body        BLOB    NOT NULL,
            received_at     INTEGER NOT NULL,
            state           TEXT    NOT NULL
                CHECK (state IN ('pending', 'processing', 'waiting-retry', 'completed', 'dead')),
            lease_owner     TEXT,
            lease_until     INTEGER,
            next_attempt_at INTEGER,
            completed_at    INTEGER,
            dead_at         INTEGER,
            attempts        INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
            last_error      TEXT,
            conflicts       INTEGER NOT NULL DEFAULT 0 CHECK (conflicts >= 0),
            updated_at      INTEGER NOT NULL,
            CHECK ((lease_owner IS NOT NULL) = (state = 'processing')),
            CHECK ((lease_until IS NOT NULL) = (state = 'processing')),
            CHECK ((next_attempt_at IS NOT NULL) = (state = 'waiting-retry')),
            CHECK ((completed_at IS NOT NULL) = (state = 'completed')),
            CHECK ((dead_at IS NOT NULL) = (state = 'dead'))
        );

        -- claimDue: pending events, retries that fell due, expired leases.
        CREATE INDEX inbox_events_retry_due ON inbox_events (state, next_attempt_at);
        CREATE INDEX inbox_events_lease_end ON inbox_events (state, lease_until);
        -- prune: completed events by completion time; these three serve state filters too.
        CREATE INDEX inbox_events_completed ON inbox_events (state, completed_at);
        -- list filters.
        CREATE INDEX inbox_events_merchant ON inbox_events (merchant_id, kind, status, received_at);
        CREATE INDEX inbox_events_order_no ON inbox_events (order_no);
        CREATE INDEX inbox_events_received ON inbox_events (received_at);

        -- The last status seen per order, for previous_status and is_stale.
        -- `events` counts the order's stored events: the row goes with the
        -- last of them, as in the memory inbox.
        CREATE TABLE order_last_status (
            order_ref   TEXT    PRIMARY KEY,
            status      INTEGER NOT NULL,
            status_rank INTEGER,
            events      INTEGER NOT NULL CHECK (events > 0)
        ) WITHOUT ROWID;

        -- Purge, prune or a hand-made DELETE: the order count follows.
        CREATE TRIGGER inbox_events_release_order AFTER DELETE ON inbox_events BEGIN
            DELETE FROM order_last_status WHERE order_ref = OLD.order_ref AND events <= 1;
            UPDATE order_last_status SET events = events - 1 WHERE order_ref = OLD.order_ref;
        END;
        """)

    /// claimDue without sorting the backlog: pending events in receipt
    /// order straight from an index (version 1 sorted every pending row for
    /// each claim, 4-5 ms with 30,000 waiting, on the writer thread).
    static let version2 = Migration(version: 2, sql: """
        CREATE INDEX inbox_events_pending ON inbox_events (seq) WHERE state = 'pending';
        """)

    /// Handlers of one order one at a time, in order of receipt. Of an
    /// order's unfinished events only the first is claimable; the others are
    /// `held`, kept so by triggers on every insert, delete and change between
    /// unfinished and finished, and left out of the pending index. A claim
    /// therefore never reads the events waiting behind others, however many
    /// there are (a merchant's handlers failing for minutes, say).
    static let version3 = Migration(version: 3, sql: """
        ALTER TABLE inbox_events ADD COLUMN held INTEGER NOT NULL DEFAULT 0 CHECK (held IN (0, 1));
        -- An order's unfinished events, in order.
        CREATE INDEX inbox_events_open_by_order ON inbox_events (order_ref, seq)
            WHERE state IN ('pending', 'processing', 'waiting-retry');
        DROP INDEX inbox_events_pending;
        CREATE INDEX inbox_events_pending ON inbox_events (seq) WHERE state = 'pending' AND held = 0;

        CREATE TRIGGER inbox_events_hold_on_insert AFTER INSERT ON inbox_events
        WHEN NEW.state IN ('pending', 'processing', 'waiting-retry') BEGIN
            \(rehold("NEW.order_ref"))
        END;
        CREATE TRIGGER inbox_events_hold_on_finish AFTER UPDATE OF state ON inbox_events
        WHEN (OLD.state IN ('pending', 'processing', 'waiting-retry'))
            != (NEW.state IN ('pending', 'processing', 'waiting-retry')) BEGIN
            \(rehold("NEW.order_ref"))
        END;
        CREATE TRIGGER inbox_events_hold_on_delete AFTER DELETE ON inbox_events
        WHEN OLD.state IN ('pending', 'processing', 'waiting-retry') BEGIN
            \(rehold("OLD.order_ref"))
        END;

        -- Events stored before this migration.
        UPDATE inbox_events SET held = 1
        WHERE state IN ('pending', 'processing', 'waiting-retry') AND EXISTS (
            SELECT 1 FROM inbox_events AS earlier
            WHERE earlier.order_ref = inbox_events.order_ref AND earlier.seq < inbox_events.seq
                AND earlier.state IN ('pending', 'processing', 'waiting-retry'));
        """)

    /// What an operator sees of an event beyond its row (`EventHistory`):
    /// its handler attempts, the last 50 kept by the write that finishes
    /// each, and the first 10 distinct conflicting copies. Both go with
    /// their event (foreign keys are on for every connection).
    static let version4 = Migration(version: 4, sql: """
        CREATE TABLE inbox_attempts (
            seq        INTEGER PRIMARY KEY,
            event_id   TEXT    NOT NULL REFERENCES inbox_events (id) ON DELETE CASCADE,
            number     INTEGER NOT NULL,
            started_at INTEGER NOT NULL,
            ended_at   INTEGER NOT NULL,
            outcome    TEXT    NOT NULL CHECK (outcome IN ('handled', 'failed', 'timed-out', 'lease-lost')),
            error      TEXT
        );
        CREATE INDEX inbox_attempts_event ON inbox_attempts (event_id, seq);

        CREATE TABLE inbox_conflicting_copies (
            seq          INTEGER PRIMARY KEY,
            event_id     TEXT    NOT NULL REFERENCES inbox_events (id) ON DELETE CASCADE,
            content_hash TEXT    NOT NULL,
            raw_body     BLOB    NOT NULL,
            received_at  INTEGER NOT NULL,
            UNIQUE (event_id, content_hash)
        );
        """)

    /// Reconciliation (issue #15).
    /// - `source`: where an event came from; every earlier one is a callback.
    /// - An index by (order, status): an order-query event and a callback
    ///   of one order and status are one event, matched on these.
    /// - `expected_orders`: orders the merchant expects a callback for.
    /// - `order_query_leases`: who queries an order until when (one process
    ///   owns a SQLite inbox, but the store contract is the same as PostgreSQL's).
    static let version5 = Migration(version: 5, sql: """
        ALTER TABLE inbox_events ADD COLUMN source TEXT NOT NULL DEFAULT 'callback'
            CHECK (source IN ('callback', 'order-query'));
        CREATE INDEX inbox_events_order_status ON inbox_events (order_ref, status, seq);
        CREATE TABLE expected_orders (
            order_ref   TEXT    PRIMARY KEY,
            merchant_id INTEGER NOT NULL,
            order_type  INTEGER NOT NULL,
            order_no    TEXT    NOT NULL,
            expected_at INTEGER NOT NULL
        ) WITHOUT ROWID;
        CREATE INDEX expected_orders_at ON expected_orders (expected_at);
        CREATE TABLE order_query_leases (
            order_ref   TEXT    PRIMARY KEY,
            owner       TEXT    NOT NULL,
            lease_until INTEGER NOT NULL
        ) WITHOUT ROWID;
        """)

    /// "Unfinished" as `state NOT IN ('completed', 'dead')` instead of
    /// `state IN ('pending', 'processing', 'waiting-retry')` (the same rows:
    /// the CHECK on `state` allows no other value), in the index of an
    /// order's unfinished events and in the hold triggers. SQLite builds a
    /// temporary B-tree, once per statement run, for a constant IN list of
    /// more than two values, but compares a list of two in place: that was
    /// about 15 temporary B-trees (each a page allocated and zeroed and a
    /// transaction begun on it) per durable callback on the writer thread,
    /// for the partial index's condition on every insert and update, the
    /// triggers' WHEN and their UPDATE. Queries that use the index state its
    /// condition as written here (``isUnfinished``), or SQLite cannot use it.
    static let version6 = Migration(version: 6, sql: """
        DROP TRIGGER inbox_events_hold_on_insert;
        DROP TRIGGER inbox_events_hold_on_finish;
        DROP TRIGGER inbox_events_hold_on_delete;
        DROP INDEX inbox_events_open_by_order;
        CREATE INDEX inbox_events_open_by_order ON inbox_events (order_ref, seq)
            WHERE state NOT IN ('completed', 'dead');

        CREATE TRIGGER inbox_events_hold_on_insert AFTER INSERT ON inbox_events
        WHEN NEW.\(isUnfinished) BEGIN
        \(reholdUnfinished("NEW.order_ref"))
        END;
        CREATE TRIGGER inbox_events_hold_on_finish AFTER UPDATE OF state ON inbox_events
        WHEN (OLD.\(isUnfinished)) != (NEW.\(isUnfinished)) BEGIN
        \(reholdUnfinished("NEW.order_ref"))
        END;
        CREATE TRIGGER inbox_events_hold_on_delete AFTER DELETE ON inbox_events
        WHEN OLD.\(isUnfinished) BEGIN
        \(reholdUnfinished("OLD.order_ref"))
        END;
        """)

    /// The CHECK on `state` as comparisons joined by OR instead of an IN
    /// list of its five values, for which SQLite builds a temporary B-tree
    /// at every insert and every change of state: about 8 µs of the writer's
    /// time each, two per durable callback. The two are the same condition,
    /// so no row needs checking again and any connection that still holds
    /// the old text enforces the same rule. Changed in place, as SQLite's
    /// documentation describes for changing a CHECK constraint (a rebuild
    /// of the table would copy every event): the table's definition is
    /// rewritten in `sqlite_master`, and `writable_schema = RESET` makes
    /// this connection read it again.
    static let version7 = Migration(version: 7, sql: """
        PRAGMA writable_schema = ON;
        UPDATE sqlite_master SET sql = replace(sql, '\(stateCheckVersion1)', '\(stateCheck)')
            WHERE type = 'table' AND name = 'inbox_events';
        PRAGMA writable_schema = RESET;
        """)

    /// The state indexes as the hot path can afford them. Migration 1's
    /// three were on (state, time) over every row, the time null in every
    /// state but one: a record added an entry to each, a completion moved
    /// each entry between the groups of two states, in the middle of each
    /// index (about 14 of a commit's 54 WAL pages, 9 index writes per
    /// callback). Now one index of every row by state in receipt order
    /// (state filters, counts and listings, newest first without a sort),
    /// and partial ones with only the rows of the state their time belongs
    /// to, appended at their end: claims of retries that fell due and of
    /// expired leases, and pruning (6 index writes per callback, the retry
    /// index untouched). Queries that use a partial index state its
    /// condition as written here, with the literal state.
    static let version8 = Migration(version: 8, sql: """
        DROP INDEX inbox_events_retry_due;
        DROP INDEX inbox_events_lease_end;
        DROP INDEX inbox_events_completed;
        CREATE INDEX inbox_events_state ON inbox_events (state, seq);
        CREATE INDEX inbox_events_retry_due ON inbox_events (next_attempt_at, seq) WHERE state = 'waiting-retry';
        CREATE INDEX inbox_events_lease_end ON inbox_events (lease_until, seq) WHERE state = 'processing';
        CREATE INDEX inbox_events_completed ON inbox_events (completed_at) WHERE state = 'completed';
        """)

    /// A new event's hold is set by `record` itself, from the read of its
    /// order that also decides its lease (`SQLiteInbox.orderReading`): the
    /// insert trigger ran a second program with an UPDATE and a subquery at
    /// every record, and only ever changed the new row (it has the largest
    /// `seq`, so an earlier event's hold never changes on an insert). The
    /// triggers on a change of state and on a delete stay. Every insert
    /// goes through `record`.
    static let version9 = Migration(version: 9, sql: """
        DROP TRIGGER inbox_events_hold_on_insert;
        """)

    /// The CHECK on an attempt's outcome as comparisons joined by OR, as
    /// migration 7 did for the event's state: the IN list of its four
    /// values made SQLite build a temporary B-tree of them at every kept
    /// attempt, so at every completion (about 3% of a durable callback's
    /// instructions, callgrind). The same rule; rewritten in place.
    static let version10 = Migration(version: 10, sql: """
        PRAGMA writable_schema = ON;
        UPDATE sqlite_master SET sql = replace(sql, '\(outcomeCheckVersion4)', '\(outcomeCheck)')
            WHERE type = 'table' AND name = 'inbox_attempts';
        PRAGMA writable_schema = RESET;
        """)

    /// Migration 4's CHECK on an attempt's outcome, as its text stands in
    /// `sqlite_master` (the single quotes doubled for an SQL string).
    static let outcomeCheckVersion4 = "CHECK (outcome IN (''handled'', ''failed'', ''timed-out'', ''lease-lost''))"

    /// Migration 10's CHECK on an attempt's outcome (quotes doubled likewise).
    static let outcomeCheck = "CHECK (outcome = ''handled'' OR outcome = ''failed'' OR outcome = ''timed-out'' "
        + "OR outcome = ''lease-lost'')"

    /// The hold trigger of a change between unfinished and finished fires
    /// on an update of `completed_at` or `dead_at` instead of `state`: the
    /// same changes, since the CHECKs tie a completed event to its
    /// `completed_at` and a dead one to its `dead_at` (null in every other
    /// state), so every such change sets one of them. A claim (many events
    /// at once under load) and a failed attempt change `state` but neither
    /// column, and so no longer enter the trigger's program only to find
    /// its WHEN false (a frame of registers allocated and freed per row,
    /// callgrind). Its condition and its re-hold are migration 6's.
    static let version11 = Migration(version: 11, sql: """
        DROP TRIGGER inbox_events_hold_on_finish;
        CREATE TRIGGER inbox_events_hold_on_finish AFTER UPDATE OF completed_at, dead_at ON inbox_events
        WHEN (OLD.\(isUnfinished)) != (NEW.\(isUnfinished)) BEGIN
        \(reholdUnfinished("NEW.order_ref"))
        END;
        """)

    /// Migration 1's CHECK on `state`, as its text stands in `sqlite_master`
    /// (the single quotes doubled for an SQL string).
    static let stateCheckVersion1 = "CHECK (state IN (''pending'', ''processing'', ''waiting-retry'', ''completed'', ''dead''))"

    /// Migration 7's CHECK on `state` (quotes doubled likewise).
    static let stateCheck = "CHECK (state = ''pending'' OR state = ''processing'' OR state = ''waiting-retry'' "
        + "OR state = ''completed'' OR state = ''dead'')"

    /// An event is unfinished (pending, processing or waiting for a retry),
    /// as the index of an order's unfinished events states it (migration 6).
    static let isUnfinished = "state NOT IN ('completed', 'dead')"

    /// ``rehold(_:)`` with migration 6's condition (``isUnfinished``).
    private static func reholdUnfinished(_ order: String) -> String {
        """
        UPDATE inbox_events SET held = 1 - held
            WHERE order_ref = \(order) AND \(isUnfinished)
                AND held != (seq > (
                    SELECT min(seq) FROM inbox_events AS first
                    WHERE first.order_ref = \(order) AND first.\(isUnfinished)));
        """
    }

    /// Holds every unfinished event of `order` but its first; writes only
    /// the rows whose hold changes (usually none). Migration 3's form (a
    /// shipped migration is never edited; version 6 replaces its triggers).
    private static func rehold(_ order: String) -> String {
        """
        UPDATE inbox_events SET held = 1 - held
            WHERE order_ref = \(order) AND state IN ('pending', 'processing', 'waiting-retry')
                AND held != (seq > (
                    SELECT min(seq) FROM inbox_events AS first
                    WHERE first.order_ref = \(order) AND first.state IN ('pending', 'processing', 'waiting-retry')));
        """
    }
}
