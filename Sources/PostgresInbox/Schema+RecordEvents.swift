extension Schema {
    /// `trustpay_record_events` as migrations 10 and 11 create it: records
    /// a batch of events in one call (see `PostgresInbox.writeRecords`).
    ///
    /// Migration 10 (session 12): `trustpay_record_events` ran
    /// `trustpay_record_event` once per event, so every event paid the
    /// start-up of five statements and a function call. The events of a
    /// batch that are alone of their order and of their key in it (the
    /// usual case) are recorded together: the orders' status rows locked in
    /// one statement (all the batch's, in order-ref order, as the client
    /// sorts them), then, each statement seeing what committed before those
    /// locks, the reconciled ones found, the orders' unfinished events
    /// share-locked, the events inserted and the orders' statuses moved,
    /// one statement each. Events alone of their order cannot see one
    /// another, so this is what one call after another would do. An order
    /// or key repeated in the batch still goes through
    /// `trustpay_record_event`, one event after another in the batch's
    /// order, so that each sees those before it. Same signature and answer
    /// in every version: replicas of release 9 call this one too.
    /// `enable_seqscan = off`: every statement here looks up a few keys by
    /// index, but planned while the tables were small (a new database, not
    /// yet analysed), the lookups of an array of keys became sequential
    /// scans, and the connection kept those plans as the tables grew.
    ///
    /// `copiesTogether` (migration 11): copies of one event in a batch
    /// (one order, one key, one status, one source: a redelivery that
    /// arrived while the first was being recorded) no longer take the one
    /// by one path, two calls of `trustpay_record_event` for every such
    /// pair (a fifth of the statement's time under load with 10% repeats,
    /// BENCHMARKS.md session 21). The first is recorded with the events
    /// alone of their order; the others cannot be inserted whatever
    /// happens to it (its key is then taken; or stored already; or a
    /// reconciled event of its order and status, which is theirs too,
    /// keeps it out), so they are left out, as one call after another
    /// would have found, and the caller reads why as for any event not
    /// inserted. Generic plans (see ``plannedOnce``).
    ///
    /// `marksFollowed` (migration 13): the unfinished events of the orders
    /// of new events are marked `followed` (see ``finishReholdsOnlyFollowed``).
    static func recordEventsFunction(copiesTogether: Bool, marksFollowed: Bool = false) -> String {
        let settings = copiesTogether
            ? "SET plan_cache_mode = force_generic_plan SET enable_seqscan = off" : "SET enable_seqscan = off"
        return """
        CREATE OR REPLACE FUNCTION trustpay_record_events(
            p_id text[], p_key text[], p_hash text[], p_kind text[], p_merchant_id bigint[],
            p_order_type integer[], p_has_order_type boolean[], p_order_no text[], p_status integer[],
            p_order_ref text[], p_rank integer[], p_has_rank boolean[], p_body bytea[],
            p_received_at timestamptz[], p_source text[], p_lease integer[], p_owner text[],
            p_lease_until timestamptz[])
        RETURNS TABLE (ord integer, recorded trustpay_events) LANGUAGE plpgsql \(settings) AS $$
        DECLARE
            n integer := coalesce(array_length(p_id, 1), 0);
            v_alone integer[] := '{}';
            v_reconciled integer[];
            v_waiting text[];
            v_refs text[] := '{}';
            v_statuses integer[] := '{}';
            v_ranks integer[] := '{}';
            v_stale boolean[] := '{}';
            v_alone_refs text[];\(copiesTogether ? copiesDeclarations : "")\(marksFollowed ? "\n            v_ids text[] := '{}';" : "")
        BEGIN
            IF n = 0 THEN
                RETURN;
            END IF;
            -- Every order's status row, locked in one statement, in the order of
            -- their bytes (the client's order): concurrent batches take them in
            -- one order instead of deadlocking.
            INSERT INTO trustpay_order_status AS o (order_ref, events)
            SELECT d.r, 0 FROM (SELECT DISTINCT r FROM unnest(p_order_ref) AS r) AS d ORDER BY d.r COLLATE "C"
            ON CONFLICT (order_ref) DO UPDATE SET events = o.events;
            \(copiesTogether ? aloneOrFirstCopies : alone)
            IF cardinality(v_alone) > 0 THEN
                -- A reconciled event of the order and status stands for it.
                SELECT coalesce(array_agg(a.i), '{}') INTO v_reconciled
                FROM unnest(v_alone) AS a(i)
                CROSS JOIN LATERAL (
                    SELECT 1 FROM trustpay_events
                    WHERE order_ref = p_order_ref[a.i] AND status = p_status[a.i]
                        AND (p_source[a.i] = 'order-query' OR source = 'order-query')
                    LIMIT 1) AS found;
                IF cardinality(v_reconciled) > 0 THEN
                    SELECT coalesce(array_agg(a.i ORDER BY a.i), '{}') INTO v_alone
                    FROM unnest(v_alone) AS a(i) WHERE a.i <> ALL (v_reconciled);
                END IF;
            END IF;
            IF cardinality(v_alone) > 0 THEN
                -- Their orders' unfinished events, share-locked as
                -- `trustpay_record_event` does: one is held behind them and gets
                -- no lease "if first of its order".
                v_alone_refs := array(SELECT p_order_ref[a.i] FROM unnest(v_alone) AS a(i));
                SELECT coalesce(array_agg(DISTINCT l.order_ref), '{}') INTO v_waiting FROM (
                    SELECT order_ref FROM trustpay_events
                    WHERE order_ref = ANY (v_alone_refs) AND claimable_at IS NOT NULL
                    ORDER BY order_ref, seq FOR SHARE) AS l;
                FOR recorded IN
                    INSERT INTO trustpay_events (
                        id, idempotency_key, content_hash, kind, merchant_id, order_type, order_no, status, order_ref,
                        previous_status, is_stale, raw_body, received_at, state, lease_owner, state_at, attempts, source,
                        held)
                    SELECT
                        p_id[a.i], p_key[a.i], p_hash[a.i], p_kind[a.i], p_merchant_id[a.i],
                        CASE WHEN p_has_order_type[a.i] THEN p_order_type[a.i] END, p_order_no[a.i], p_status[a.i],
                        p_order_ref[a.i], s.status, coalesce(CASE WHEN p_has_rank[a.i] THEN p_rank[a.i] END < s.status_rank, false),
                        p_body[a.i], p_received_at[a.i],
                        CASE WHEN g.granted THEN 'processing' ELSE 'pending' END,
                        CASE WHEN g.granted THEN p_owner[a.i] END, CASE WHEN g.granted THEN p_lease_until[a.i] END,
                        CASE WHEN g.granted THEN 1 ELSE 0 END, p_source[a.i], w.waiting
                    FROM unnest(v_alone) AS a(i)
                    CROSS JOIN LATERAL (
                        SELECT status, status_rank FROM trustpay_order_status WHERE order_ref = p_order_ref[a.i] LIMIT 1) AS s
                    CROSS JOIN LATERAL (SELECT p_order_ref[a.i] = ANY (v_waiting) AS waiting) AS w
                    CROSS JOIN LATERAL (
                        SELECT CASE p_lease[a.i] WHEN 0 THEN false WHEN 1 THEN true ELSE NOT w.waiting END AS granted) AS g
                    ORDER BY a.i
                    ON CONFLICT (idempotency_key) DO NOTHING
                    RETURNING *
                LOOP
                    ord := array_position(p_id, recorded.id);
                    v_refs := v_refs || recorded.order_ref;\(marksFollowed ? "\n                    v_ids := v_ids || recorded.id;" : "")
                    v_statuses := v_statuses || recorded.status;
                    v_ranks := v_ranks || CASE WHEN p_has_rank[ord] THEN p_rank[ord] END;
                    v_stale := v_stale || recorded.is_stale;
                    RETURN NEXT;
                END LOOP;\(marksFollowed ? markingFollowedOrders : "")
                -- A stale event leaves its order where it was; an unranked one
                -- moves the status but keeps the last rank.
                IF cardinality(v_refs) > 0 THEN
                    UPDATE trustpay_order_status AS o
                    SET status = CASE WHEN v_stale[array_position(v_refs, o.order_ref)] THEN o.status
                            ELSE v_statuses[array_position(v_refs, o.order_ref)] END,
                        status_rank = CASE WHEN v_stale[array_position(v_refs, o.order_ref)] THEN o.status_rank
                            ELSE coalesce(v_ranks[array_position(v_refs, o.order_ref)], o.status_rank) END,
                        events = o.events + 1
                    WHERE o.order_ref = ANY (v_refs);
                END IF;
            END IF;
            -- The others one after another, in the batch's order.
            FOR i IN 1 .. n LOOP
                CONTINUE WHEN i = ANY (v_alone) OR i = ANY (coalesce(v_reconciled, '{}'))\(copiesTogether ? " OR i = ANY (v_copies)" : "");
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
        """
    }

    /// Marks `followed` the unfinished events, other than the new ones
    /// (`v_ids`), of the orders that had some (`v_waiting`, share-locked
    /// before the insert) and got a new event (`v_refs`): migration 13,
    /// ``finishReholdsOnlyFollowed``. After the insert, so that a
    /// redelivery of an unfinished event (never inserted) marks nothing.
    private static let markingFollowedOrders = """

                IF cardinality(v_waiting) > 0 AND cardinality(v_refs) > 0 THEN
                    UPDATE trustpay_events SET followed = true
                    WHERE order_ref = ANY (v_waiting) AND order_ref = ANY (v_refs) AND claimable_at IS NOT NULL
                        AND NOT followed AND id <> ALL (v_ids);
                END IF;
        """

    /// The events alone of their order and of their key in the batch.
    private static let alone = """
        -- The events alone of their order and of their key in the batch.
                    FOR i IN 1 .. n LOOP
                        IF cardinality(array_positions(p_order_ref, p_order_ref[i])) = 1
                            AND cardinality(array_positions(p_key, p_key[i])) = 1
                        THEN
                            v_alone := v_alone || i;
                        END IF;
                    END LOOP;
        """

    private static let copiesDeclarations = """

                    v_same integer[];
                    v_alike boolean;
                    v_copies integer[] := '{}';
                    j integer;
        """

    /// The events alone of their order and of their key in the batch, and
    /// of the copies of one event alone of their order the first (the
    /// others in `v_copies`).
    private static let aloneOrFirstCopies = """
        -- The events alone of their order and key, or first of copies alone of their order.
                    FOR i IN 1 .. n LOOP
                        v_same := array_positions(p_order_ref, p_order_ref[i]);
                        IF v_same[1] = i AND v_same = array_positions(p_key, p_key[i]) THEN
                            v_alike := true;
                            FOREACH j IN ARRAY v_same LOOP
                                v_alike := v_alike AND p_status[j] = p_status[i] AND p_source[j] = p_source[i];
                            END LOOP;
                            IF v_alike THEN
                                v_alone := v_alone || i;
                                v_copies := v_copies || v_same[2:];
                            END IF;
                        END IF;
                    END LOOP;
        """
}
