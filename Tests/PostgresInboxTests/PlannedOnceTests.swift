import Foundation
@testable import PostgresInbox
import Inbox
import InboxTesting
import PostgresNIO
import Testing
import TestSupport

extension PostgreSQLTests {
    /// Migration 11: claims and attempt endings go through functions, and
    /// every function of the write path keeps generic plans.
    @Suite struct PlannedOnceTests {
        /// Fails when a migration recreates one of them (`CREATE OR
        /// REPLACE FUNCTION` drops its settings) without the setting, or
        /// leaves one out: each would then be planned again at every call.
        @Test func theWritePathsFunctionsKeepGenericPlans() async throws {
            let url = try await sharedServer().createDatabase()
            let inbox = try await PostgresInbox.connect(url: url, poolSize: 1, logger: testLogger)
            await inbox.shutdown()
            let generic = try await withRawClient(url) { client in
                var names: [String] = []
                for try await name in try await client.query(
                    """
                    SELECT proname::text FROM pg_proc
                    WHERE proname LIKE 'trustpay%' AND 'plan_cache_mode=force_generic_plan' = ANY (proconfig)
                    ORDER BY proname
                    """, logger: testLogger
                ).decode(String.self) {
                    names.append(name)
                }
                return names
            }
            #expect(generic == [
                "trustpay_claim_due", "trustpay_end_attempts", "trustpay_events_rehold", "trustpay_record_event",
                "trustpay_record_events",
            ])
        }

        /// The statements every callback runs are prepared on the
        /// connection, not sent as text to be parsed and planned each
        /// time. Fails when one goes back to `client.query`.
        @Test func theWritePathsStatementsArePreparedOnTheConnection() async throws {
            let url = try await sharedServer().createDatabase()
            let inbox = try await PostgresInbox.connect(
                url: url, poolSize: 1, operationTimeout: .seconds(30), logger: testLogger)
            try await using(inbox) {
                let lease = Lease(owner: "w", duration: .seconds(30))
                let first = try await inbox.record(newEvent("O-PREPARED"), lease: .always(lease), now: t0).event
                let repeated = try await inbox.record(newEvent("O-PREPARED"), lease: .none, now: t0)
                #expect(repeated.event.id == first.id)
                _ = try await inbox.claimDue(owner: "w", limit: 1, leaseDuration: .seconds(30), now: t0)
                let attempt = HandlerAttempt(number: 1, startedAt: t0, endedAt: t0, outcome: .handled)
                #expect(try await inbox.complete(id: first.id, owner: "w", attempt: attempt))
                // The pool's only connection: the one that ran them.
                let prepared = try await inbox.perform { client in
                    var names: [String] = []
                    for try await name in try await client.query(
                        "SELECT name FROM pg_prepared_statements", logger: testLogger
                    ).decode(String.self) {
                        names.append(name)
                    }
                    return Set(names)
                }
                let expected: Set = [
                    Prepared<RecordEvents>.name, Prepared<StoredEventOfKey>.name, Prepared<ClaimDue>.name,
                    Prepared<EndAttempts>.name,
                ]
                #expect(expected.isSubset(of: prepared), "\(prepared)")
            }
        }

        /// A database of the release before migration 11, with one event
        /// leased by that release and one pending: after the upgrade the
        /// pending one is claimed, and both endings are kept, the one whose
        /// lease is not held as lease-lost.
        @Test func aVersion10DatabaseClaimsAndEndsItsEventsAfterUpgrading() async throws {
            let url = try await sharedServer().createDatabase()
            try await withRawClient(url) { client in
                try await Schema.migrate(client, upTo: 10, logger: testLogger)
                try await client.query(
                    """
                    SELECT r.ord FROM trustpay_record_events(
                        ARRAY['e1', 'e2'], ARRAY['k1', 'k2'], ARRAY['h1', 'h1'], ARRAY['payment', 'payment'],
                        ARRAY[1, 1]::bigint[], ARRAY[0, 0], ARRAY[true, true], ARRAY['O-1', 'O-2'], ARRAY[5, 5],
                        ARRAY['O-1', 'O-2'], ARRAY[1, 1], ARRAY[true, true], ARRAY['\\x00', '\\x00']::bytea[],
                        ARRAY[now(), now()], ARRAY['callback', 'callback'], ARRAY[1, 0], ARRAY['w', ''],
                        ARRAY[now() + interval '1 hour', now()]) AS r
                    """, logger: testLogger)
            }
            let inbox = try await PostgresInbox.connect(
                url: url, poolSize: 2, operationTimeout: .seconds(30), logger: testLogger)
            try await using(inbox) {
                let now = Date()
                let due = try await inbox.claimDue(owner: "v", limit: 10, leaseDuration: .seconds(30), now: now)
                #expect(due.map(\.id) == ["e2"], "e1 is leased to w for an hour")
                #expect(due.first?.state.name == .processing)
                let attempt = HandlerAttempt(number: 1, startedAt: now, endedAt: now, outcome: .handled)
                #expect(try await inbox.complete(id: "e1", owner: "w", attempt: attempt))
                #expect(try await !inbox.complete(id: "e2", owner: "w", attempt: attempt), "leased to v")
                #expect(try await inbox.event(id: "e1")?.state.name == .completed)
                #expect(try await inbox.event(id: "e2")?.state.name == .processing)
                #expect(try await inbox.history(id: "e1").attempts.map(\.outcome) == [.handled])
                #expect(try await inbox.history(id: "e2").attempts.map(\.outcome) == [.leaseLost])
            }
        }
    }
}
