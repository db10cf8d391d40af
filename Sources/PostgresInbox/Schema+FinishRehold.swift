extension Schema {
    /// Migration 13: the finish of an event re-holds its order only when a
    /// later event of that order may be waiting behind it.
    ///
    /// Every completion ran the row trigger `trustpay_events_hold_on_finish`:
    /// a PL/pgSQL call and a locking look-up of the order's unfinished
    /// events, almost always to find none (orders are distinct under load).
    /// Without it PostgreSQL spent 15–30% less CPU per callback (an upper
    /// bound, BENCHMARKS.md session 24).
    ///
    /// `followed` is set on an unfinished event when a later one of its
    /// order is unfinished: by the record functions, once a new event is
    /// inserted, on the order's other unfinished events (share-locked
    /// before the insert; a redelivery, never inserted, marks nothing), and by the
    /// re-hold itself after a replay (an event finished before a later one
    /// came may come back ahead of it). It is never cleared; a stale `true`
    /// only costs a re-hold that changes nothing. So an unfinished event
    /// without it has no later unfinished one, and its finish changes no
    /// hold: an earlier one, if any, stays first. The trigger's WHEN says
    /// so, evaluated by the executor without calling the function. A replay
    /// (finished to unfinished) and a delete always re-hold.
    ///
    /// Races are those of migration 9: a record share-locks the order's
    /// unfinished events, so a finish of one of them either committed
    /// before (the record sees it finished) or waits for the record and
    /// then updates the row the record marked. Replicas of the previous
    /// release call the same functions and fire the same trigger.
    static let finishReholdsOnlyFollowed = Migration(
        version: 13,
        summary: "an event's finish re-holds its order only when a later event may wait behind it",
        statements: [
            "ALTER TABLE trustpay_events ADD COLUMN followed boolean NOT NULL DEFAULT false",
            """
            UPDATE trustpay_events AS e SET followed = true
            WHERE claimable_at IS NOT NULL AND EXISTS (
                SELECT 1 FROM trustpay_events AS later
                WHERE later.order_ref = e.order_ref AND later.seq > e.seq AND later.claimable_at IS NOT NULL)
            """,
            recordEventFunction(marksFollowed: true),
            recordEventsFunction(copiesTogether: true, marksFollowed: true),
            reholdFunction(marksFollowed: true),
            "DROP TRIGGER trustpay_events_hold_on_finish ON trustpay_events",
            """
            CREATE TRIGGER trustpay_events_hold_on_finish AFTER UPDATE OF state ON trustpay_events
            FOR EACH ROW WHEN ((OLD.state IN ('pending', 'processing', 'waiting-retry'))
                <> (NEW.state IN ('pending', 'processing', 'waiting-retry'))
                AND (NEW.state IN ('pending', 'processing', 'waiting-retry') OR NEW.followed))
            EXECUTE FUNCTION trustpay_events_rehold()
            """,
        ])

    /// `trustpay_events_rehold` as migration 9 creates it (an order left
    /// with no unfinished event, a completion's usual case, has nothing to
    /// release: the update is skipped), and as migration 13 replaces it
    /// (`marksFollowed`, planned once per connection as migration 11 set
    /// it): then the order's unfinished events with a later one are marked
    /// `followed`, after a replay the replayed event.
    static func reholdFunction(marksFollowed: Bool) -> String {
        let settings = marksFollowed ? " SET plan_cache_mode = force_generic_plan" : ""
        let marking = !marksFollowed ? "" : """

                UPDATE trustpay_events AS e SET followed = true
                FROM (SELECT max(seq) AS seq FROM trustpay_events
                      WHERE order_ref = ref AND claimable_at IS NOT NULL) AS last
                WHERE e.order_ref = ref AND e.claimable_at IS NOT NULL AND NOT e.followed AND e.seq < last.seq;
            """
        return """
            CREATE OR REPLACE FUNCTION trustpay_events_rehold() RETURNS trigger LANGUAGE plpgsql\(settings) AS $$
            DECLARE
                ref text := CASE TG_OP WHEN 'DELETE' THEN OLD.order_ref ELSE NEW.order_ref END;
            BEGIN
                PERFORM 1 FROM trustpay_events
                WHERE order_ref = ref AND claimable_at IS NOT NULL ORDER BY seq FOR UPDATE;
                IF NOT FOUND THEN
                    RETURN NULL;
                END IF;
                UPDATE trustpay_events AS e SET held = NOT e.held
                FROM (SELECT min(seq) AS seq FROM trustpay_events
                      WHERE order_ref = ref AND claimable_at IS NOT NULL) AS first
                WHERE e.order_ref = ref AND e.claimable_at IS NOT NULL AND e.held <> (e.seq > first.seq);\(marking)
                RETURN NULL;
            END
            $$
            """
    }
}
