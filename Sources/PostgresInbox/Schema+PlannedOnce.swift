import Inbox

extension Schema {
    /// Migration 11: the hot statements planned once per connection, not
    /// at every call.
    ///
    /// Under load (BENCHMARKS.md, session 21) PostgreSQL spent about a
    /// fifth of its CPU planning: the claim's and the attempt endings'
    /// statements, sent as text, were parsed and planned at every call
    /// (0.4 ms each: `trustpay_events` has ten indexes, most of them
    /// partial, whose predicates the planner copies for every reference
    /// to the table), and inside the functions PL/pgSQL re-planned the
    /// statements whose parameters it judged worth a custom plan (the
    /// re-hold trigger's lookup, 9,882 plans in 22,195 calls). Those two
    /// statements now live in functions, whose plans PL/pgSQL keeps per
    /// connection, and every function here takes generic plans: each of
    /// their statements looks up a few keys by index whatever the values,
    /// so a custom plan could never be better, only later.
    /// `enable_seqscan = off` as in `trustpay_record_events` (migration 10):
    /// a generic plan reckons an array of keys at 100 rows, and must not
    /// trade the index lookups for a scan of the whole table.
    ///
    /// The statements are those the client sent until now, unchanged, so
    /// each still sees one snapshot; replicas of the previous release keep
    /// sending them as text, which this migration does not disturb. Also
    /// new here: copies of one event in a batch are recorded together (see
    /// ``recordEventsFunction(copiesTogether:)``).
    static let plannedOnce = Migration(
        version: 11,
        summary: "claims and attempt endings in functions, planned once per connection; copies of an event in a batch together",
        statements: [
            "ALTER FUNCTION trustpay_events_rehold() SET plan_cache_mode = force_generic_plan",
            """
            ALTER FUNCTION trustpay_record_event(
                text, text, text, text, bigint, integer, text, integer, text, integer, bytea, timestamptz, text,
                integer, text, timestamptz)
            SET plan_cache_mode = force_generic_plan
            """,
            recordEventsFunction(copiesTogether: true),
            // `PostgresInbox.claimDue`: the first `p_limit` events due at
            // `p_now` (unheld, first unfinished of their order), leased to
            // `p_owner` until `p_until`, in the order of their rows.
            """
            CREATE FUNCTION trustpay_claim_due(p_owner text, p_until timestamptz, p_now timestamptz, p_limit integer)
            RETURNS SETOF trustpay_events LANGUAGE plpgsql
            SET plan_cache_mode = force_generic_plan SET enable_seqscan = off AS $$
            BEGIN
                RETURN QUERY
                WITH claimed AS (
                    UPDATE trustpay_events AS e
                    SET state = 'processing', lease_owner = p_owner, state_at = p_until, attempts = e.attempts + 1
                    FROM (
                        SELECT id FROM trustpay_events AS c
                        WHERE claimable_at <= p_now AND NOT held AND NOT EXISTS (
                            SELECT 1 FROM trustpay_events AS earlier
                            WHERE earlier.order_ref = c.order_ref AND earlier.seq < c.seq
                                AND earlier.claimable_at IS NOT NULL)
                        ORDER BY claimable_at, seq LIMIT p_limit FOR UPDATE OF c SKIP LOCKED
                    ) AS due
                    WHERE e.id = due.id
                    RETURNING e.*
                )
                SELECT * FROM claimed ORDER BY seq;
            END
            $$
            """,
            // `PostgresInbox.writeEndings`: one ending per event, rows
            // locked in the order given; returns the ids of the events
            // finished. See there.
            """
            CREATE FUNCTION trustpay_end_attempts(
                p_id text[], p_owner text[], p_state text[], p_state_at timestamptz[], p_number bigint[],
                p_started_at timestamptz[], p_ended_at timestamptz[], p_outcome text[], p_error text[],
                p_has_error boolean[])
            RETURNS text[] LANGUAGE plpgsql
            SET plan_cache_mode = force_generic_plan SET enable_seqscan = off AS $$
            DECLARE
                finished_ids text[];
            BEGIN
                WITH ending AS (
                    SELECT id, owner, state, state_at, number, started_at, ended_at, outcome,
                        CASE WHEN has_error THEN error END AS error
                    FROM unnest(
                        p_id, p_owner, p_state, p_state_at, p_number, p_started_at, p_ended_at, p_outcome, p_error,
                        p_has_error)
                        AS e(id, owner, state, state_at, number, started_at, ended_at, outcome, error, has_error)
                ),
                finished AS (
                    UPDATE trustpay_events AS t
                    SET state = e.state, lease_owner = NULL, state_at = e.state_at,
                        last_error = coalesce(e.error, t.last_error)
                    FROM ending AS e
                    WHERE t.id = e.id AND t.state = 'processing' AND t.lease_owner = e.owner
                    RETURNING t.id
                ),
                kept AS (
                    INSERT INTO trustpay_attempts (event_id, number, started_at, ended_at, outcome, error)
                    SELECT e.id, e.number, e.started_at, e.ended_at,
                        CASE WHEN e.id IN (SELECT id FROM finished) THEN e.outcome ELSE 'lease-lost' END,
                        e.error
                    FROM ending AS e WHERE EXISTS (SELECT 1 FROM trustpay_events AS t WHERE t.id = e.id)
                    RETURNING seq
                ),
                dropped AS (
                    DELETE FROM trustpay_attempts AS a USING ending AS e
                    WHERE a.event_id = e.id AND a.seq <= (
                        SELECT seq FROM trustpay_attempts WHERE event_id = e.id
                        ORDER BY seq DESC OFFSET \(EventHistory.attemptsKept - 1) LIMIT 1)
                    RETURNING a.seq
                )
                SELECT coalesce(array_agg(id), '{}') INTO finished_ids FROM finished;
                RETURN finished_ids;
            END
            $$
            """,
        ])
}
