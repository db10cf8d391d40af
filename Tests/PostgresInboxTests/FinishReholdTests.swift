import Foundation
import Inbox
import InboxTesting
@testable import PostgresInbox
import PostgresNIO
import Testing
import TestSupport

extension PostgreSQLTests {
    /// Migration 13: an event's finish runs the re-hold only when a later
    /// event of its order may wait behind it (`followed`).
    @Suite struct FinishReholdTests {
        /// Two leased events, one alone of its order (redelivered while it
        /// runs), one with a later event held behind it: the first's
        /// completion calls no re-hold,
        /// the second's calls it once and releases the later event.
        /// Counted by PostgreSQL itself (`pg_stat_xact_user_functions`,
        /// inside the transaction of the completions).
        ///
        /// Made to fail by taking `NEW.followed` out of the trigger's WHEN
        /// (every finish re-holds, as before): 1 call after the first
        /// completion, 2 after both; by marking the order's unfinished
        /// events before the insert instead of after it: 1 call after the
        /// first (its redelivery had marked it).
        @Test func aFinishReholdsOnlyAnOrderWithALaterEvent() async throws {
            let url = try await sharedServer().createDatabase()
            let lease = Lease(owner: "w", duration: .seconds(30))
            let (alone, first, later) = try await withInboxOn(url) { inbox in
                let alone = try await inbox.record(newEvent("ALONE"), lease: .always(lease), now: t0).event
                // A redelivery while it runs: nothing inserted, nothing marked.
                let repeated = try await inbox.record(newEvent("ALONE"), lease: .none, now: t0)
                #expect(repeated.event.id == alone.id)
                let first = try await inbox.record(newEvent("PAIR", status: 5, rank: 1), lease: .always(lease), now: t0).event
                let later = try await inbox.record(newEvent("PAIR", status: 7, rank: 2), lease: .none, now: t0).event
                return (alone, first, later)
            }
            #expect(try await heldEvents(url) == [later.id])
            let (callsAfterAlone, callsAfterFirst) = try await withRawClient(url) { client in
                try await client.withTransaction(logger: testLogger) { connection in
                    try await connection.query("SET LOCAL track_functions = 'pl'", logger: testLogger)
                    try await Self.complete(alone.id, on: connection)
                    let afterAlone = try await Self.reholdCalls(connection)
                    try await Self.complete(first.id, on: connection)
                    return (afterAlone, try await Self.reholdCalls(connection))
                }
            }
            #expect(callsAfterAlone == 0, "nothing waits behind an event alone of its order")
            #expect(callsAfterFirst == 1, "the order's later event is released by one re-hold")
            #expect(try await heldEvents(url).isEmpty)
        }

        /// A database of the release before migration 13, with an order's
        /// second event held behind its first: the upgrade marks the first
        /// `followed`, so its completion still releases the second.
        ///
        /// Made to fail by leaving out the migration's marking of existing
        /// events: the second stayed held, and nothing was due.
        @Test func aVersion12DatabaseReleasesItsHeldEventsAfterUpgrading() async throws {
            let url = try await sharedServer().createDatabase()
            try await withRawClient(url) { client in
                try await Schema.migrate(client, upTo: 12, logger: testLogger)
                for (id, status) in [("e1", 5), ("e2", 7)] {
                    try await client.query(
                        """
                        SELECT id FROM trustpay_record_event(
                            \(id), 'k' || \(id), 'h', 'payment', 1, 0, 'O-1', \(unescaped: "\(status)"), 'O-1',
                            \(unescaped: "\(status)"), '\\x00',
                            now(), 'callback', 0, '', now())
                        """, logger: testLogger)
                }
            }
            #expect(try await heldEvents(url) == ["e2"])
            try await withInboxOn(url) { inbox in
                let due = try await inbox.claimDue(owner: "w", limit: 10, leaseDuration: .seconds(30), now: t0)
                #expect(due.map(\.id) == ["e1"])
                let attempt = HandlerAttempt(number: 1, startedAt: t0, endedAt: t0, outcome: .handled)
                #expect(try await inbox.complete(id: "e1", owner: "w", attempt: attempt))
                let next = try await inbox.claimDue(owner: "w", limit: 10, leaseDuration: .seconds(30), now: t0)
                #expect(next.map(\.id) == ["e2"], "released by e1's completion")
            }
        }

        /// An inbox on `url` for `body`, shut down afterwards.
        func withInboxOn<Result: Sendable>(
            _ url: String, _ body: (PostgresInbox) async throws -> Result
        ) async throws -> Result {
            let inbox = try await PostgresInbox.connect(
                url: url, poolSize: 2, operationTimeout: .seconds(30), logger: testLogger)
            return try await using(inbox) { try await body(inbox) }
        }

        /// Completes `id`'s attempt as the server's endings do, held by `w`.
        static func complete(_ id: String, on connection: PostgresConnection) async throws {
            try await connection.query(
                """
                SELECT trustpay_end_attempts(
                    ARRAY[\(id)], ARRAY['w'], ARRAY['completed'], ARRAY[now()], ARRAY[1]::bigint[], ARRAY[now()],
                    ARRAY[now()], ARRAY['handled'], ARRAY[''], ARRAY[false])
                """, logger: testLogger)
        }

        /// Calls of the re-hold function in this transaction so far.
        static func reholdCalls(_ connection: PostgresConnection) async throws -> Int {
            let rows = try await connection.query(
                """
                SELECT coalesce(sum(calls), 0)::bigint FROM pg_stat_xact_user_functions
                WHERE funcname = 'trustpay_events_rehold'
                """, logger: testLogger
            ).decode(Int.self)
            var calls = 0
            for try await count in rows { calls = count }
            return calls
        }
    }
}
