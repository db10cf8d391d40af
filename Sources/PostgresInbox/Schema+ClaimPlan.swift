extension Schema {
    /// Migration 12: a claim reads the claim index in order and stops at
    /// its limit, whatever the table's statistics say.
    ///
    /// `trustpay_claim_due` keeps one generic plan per connection, made
    /// without the limit's or the time's values. When the statistics were
    /// taken while few events were unfinished (an inbox with a history,
    /// then a burst), PostgreSQL chose to read every unfinished event
    /// through `trustpay_events_open_by_order`, anti-join them with a merge
    /// join, sort them all and keep the first few: each claim read the
    /// whole backlog. That fed itself: the slower claims let the backlog
    /// grow. `pipeline-harness callback-postgres` (20,000 callbacks) fell
    /// into it in about a third of its runs: 180–600 callbacks a second
    /// instead of 2,200–3,400, three events in four claimed (BENCHMARKS.md,
    /// session 24).
    ///
    /// The statement now leaves the planner one shape, the one it was
    /// written for, without relying on estimates:
    /// - the look-up of a candidate's earlier events cannot be pulled up
    ///   into a join (`OFFSET 0`): it runs per candidate, by its order;
    /// - sorting is off, so the candidates come from
    ///   `trustpay_events_claim_free` in (claimable_at, seq) order, and
    ///   the scan stops after `p_limit` rows;
    /// - the claimed ids are collected first and updated by key
    ///   (`id = ANY`), so there is no join for the planner to turn around;
    /// - JIT is off: the final sort by `seq` cannot be avoided, and the
    ///   cost that `enable_sort = off` charges it made PostgreSQL compile
    ///   the statement, half a second at every call.
    ///
    /// Same arguments, same rows, same locks: replicas of the previous
    /// release call this function too.
    static let claimPlan = Migration(
        version: 12,
        summary: "claims walk the claim index in order whatever the statistics",
        statements: [
            """
            CREATE OR REPLACE FUNCTION trustpay_claim_due(
                p_owner text, p_until timestamptz, p_now timestamptz, p_limit integer)
            RETURNS SETOF trustpay_events LANGUAGE plpgsql
            SET plan_cache_mode = force_generic_plan SET enable_seqscan = off SET enable_sort = off SET jit = off
            AS $$
            BEGIN
                RETURN QUERY
                WITH claimed AS (
                    UPDATE trustpay_events AS e
                    SET state = 'processing', lease_owner = p_owner, state_at = p_until, attempts = e.attempts + 1
                    WHERE e.id = ANY (ARRAY(
                        SELECT id FROM trustpay_events AS c
                        WHERE claimable_at <= p_now AND NOT held AND NOT EXISTS (
                            SELECT 1 FROM trustpay_events AS earlier
                            WHERE earlier.order_ref = c.order_ref AND earlier.seq < c.seq
                                AND earlier.claimable_at IS NOT NULL
                            OFFSET 0)
                        ORDER BY claimable_at, seq LIMIT p_limit FOR UPDATE OF c SKIP LOCKED))
                    RETURNING e.*
                )
                SELECT * FROM claimed ORDER BY seq;
            END
            $$
            """,
        ])
}
