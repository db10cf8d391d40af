import Foundation
@testable import PostgresInbox
import PostgresNIO
import Testing
import TestSupport

extension PostgreSQLTests {
    /// Migration 12: a claim's cost follows its limit, not the backlog.
    @Suite struct ClaimPlanTests {
        /// An inbox whose statistics were taken over a finished history,
        /// then a backlog of 3,000 pending events of distinct orders: one
        /// claim of 8 reads 8 entries of the claim index and looks up 8
        /// candidates' earlier events, in the function's generic plan.
        ///
        /// Made to fail by leaving migration 12 out: the claim read all
        /// 3,000 unfinished events through `trustpay_events_open_by_order`
        /// (a merge anti-join and a sort of the whole backlog) to claim 8.
        @Test func aClaimReadsAsManyEventsAsItsLimitWhateverTheBacklog() async throws {
            let url = try await sharedServer().createDatabase()
            let inbox = try await PostgresInbox.connect(url: url, poolSize: 1, logger: testLogger)
            await inbox.shutdown()
            let (claimed, readByOrder, readInClaimOrder) = try await withRawClient(url) { client in
                try await client.query(Self.events(state: "completed", prefix: "C", count: 200), logger: testLogger)
                try await client.query("ANALYZE trustpay_events", logger: testLogger)
                try await client.query(Self.events(state: "pending", prefix: "P", count: 3000), logger: testLogger)
                return try await client.withTransaction(logger: testLogger) { connection in
                    // Counters of this backend, read before and after in its
                    // transaction: what the setup counted is subtracted.
                    let before = try await Self.tuplesReturned(connection)
                    var claimed = 0
                    for try await _ in try await connection.query(
                        "SELECT id FROM trustpay_claim_due('w', now() + interval '1 minute', now(), 8)",
                        logger: testLogger
                    ).decode(String.self) {
                        claimed += 1
                    }
                    let after = try await Self.tuplesReturned(connection)
                    return (claimed, after.byOrder - before.byOrder, after.claimOrder - before.claimOrder)
                }
            }
            #expect(claimed == 8)
            #expect(readInClaimOrder == 8, "the claim index read in order, up to the limit")
            #expect(readByOrder <= 8, "one look-up of earlier events per candidate, not the backlog: \(readByOrder)")
        }

        /// `count` events of distinct orders in `state`, inserted directly.
        static func events(state: String, prefix: String, count: Int) -> PostgresQuery {
            PostgresQuery(unsafeSQL: """
                INSERT INTO trustpay_events (
                    id, idempotency_key, content_hash, kind, merchant_id, order_no, status, order_ref, is_stale,
                    raw_body, received_at, state, state_at)
                SELECT '\(prefix)' || i, 'k\(prefix)' || i, 'h', 'payment', 1, '\(prefix)-' || i, 5,
                    '\(prefix)-' || i, false, '\\x00', now(), '\(state)',
                    CASE WHEN '\(state)' = 'pending' THEN NULL ELSE now() END
                FROM generate_series(1, \(count)) AS i
                """)
        }

        /// Index entries this backend's transaction read so far, by index.
        static func tuplesReturned(_ connection: PostgresConnection) async throws -> (byOrder: Int, claimOrder: Int) {
            let rows = try await connection.query(
                """
                SELECT pg_stat_get_xact_tuples_returned('trustpay_events_open_by_order'::regclass),
                    pg_stat_get_xact_tuples_returned('trustpay_events_claim_free'::regclass)
                """, logger: testLogger
            ).decode((Int, Int).self)
            var counters: (byOrder: Int, claimOrder: Int)?
            for try await (byOrder, claimOrder) in rows { counters = (byOrder, claimOrder) }
            return try #require(counters)
        }
    }
}
