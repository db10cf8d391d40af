extension Schema {
    /// `trustpay_record_event` as migration 9 creates it (one event; see
    /// there), and as migration 13 replaces it (`marksFollowed`, planned
    /// once per connection as migration 11 set it): an event recorded while
    /// its order has unfinished ones marks those `followed`, so that their
    /// finish re-holds the order (see ``finishReholdsOnlyFollowed``).
    static func recordEventFunction(marksFollowed: Bool) -> String {
        let settings = marksFollowed ? " SET plan_cache_mode = force_generic_plan" : ""
        return """
        CREATE OR REPLACE FUNCTION trustpay_record_event(
            p_id text, p_key text, p_hash text, p_kind text, p_merchant_id bigint, p_order_type integer,
            p_order_no text, p_status integer, p_order_ref text, p_rank integer, p_body bytea,
            p_received_at timestamptz, p_source text, p_lease integer, p_owner text, p_lease_until timestamptz)
        RETURNS SETOF trustpay_events LANGUAGE plpgsql\(settings) AS $$
        DECLARE
            last_status integer;
            last_rank integer;
            stale boolean;
            waiting boolean;
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
            PERFORM 1 FROM trustpay_events
            WHERE order_ref = p_order_ref AND claimable_at IS NOT NULL
            ORDER BY seq FOR SHARE;
            waiting := FOUND;
            granted := CASE p_lease WHEN 0 THEN false WHEN 1 THEN true ELSE NOT waiting END;
            INSERT INTO trustpay_events (
                id, idempotency_key, content_hash, kind, merchant_id, order_type, order_no, status, order_ref,
                previous_status, is_stale, raw_body, received_at, state, lease_owner, state_at, attempts, source,
                held)
            VALUES (
                p_id, p_key, p_hash, p_kind, p_merchant_id, p_order_type, p_order_no, p_status, p_order_ref,
                last_status, stale, p_body, p_received_at,
                CASE WHEN granted THEN 'processing' ELSE 'pending' END,
                CASE WHEN granted THEN p_owner END, CASE WHEN granted THEN p_lease_until END,
                CASE WHEN granted THEN 1 ELSE 0 END, p_source, waiting)
            ON CONFLICT (idempotency_key) DO NOTHING
            RETURNING * INTO recorded;
            IF NOT FOUND THEN
                RETURN;
            END IF;\(marksFollowed ? markingFollowed : "")
            UPDATE trustpay_order_status
            SET status = CASE WHEN stale THEN status ELSE p_status END,
                status_rank = CASE WHEN stale THEN status_rank ELSE coalesce(p_rank, status_rank) END,
                events = events + 1
            WHERE order_ref = p_order_ref;
            RETURN NEXT recorded;
        END
        $$
        """
    }

    /// The statement of ``recordEventFunction(marksFollowed:)`` that marks
    /// the order's other unfinished events (share-locked before the insert)
    /// `followed`, when there are any and the event was inserted: rarely
    /// under load, where orders are distinct. Not before the insert: a
    /// redelivery of an unfinished event (inserted never) would mark it,
    /// and its completion would then run the re-hold for nothing.
    private static let markingFollowed = """

            IF waiting THEN
                UPDATE trustpay_events SET followed = true
                WHERE order_ref = p_order_ref AND claimable_at IS NOT NULL AND NOT followed AND id <> p_id;
            END IF;
        """
}
