import Foundation
@testable import PostgresInbox
import Inbox
import InboxTesting
import PostgresNIO
import Testing
import TestSupport
import TrustPayWebhooksTesting
import Webhooks

@Suite struct DatabaseURLTests {
    @Test func readsTheHostPortUserPasswordAndDatabase() throws {
        let url = try DatabaseURL("postgres://webhooks:p%40ss@db.internal:6543/trustpay?sslmode=disable")
        #expect(url.configuration.host == "db.internal")
        #expect(url.configuration.port == 6543)
        #expect(url.configuration.username == "webhooks")
        #expect(url.configuration.password == "p@ss")
        #expect(url.configuration.database == "trustpay")
        #expect(!url.description.contains("p%40ss") && !url.description.contains("p@ss"))
        #expect(url.description.contains("db.internal:6543/trustpay"))
    }

    @Test func fillsInLibpqDefaults() throws {
        let url = try DatabaseURL("postgresql://db.internal")
        #expect(url.configuration.port == 5432)
        #expect(url.configuration.username == "postgres")
        #expect(url.configuration.database == nil)
    }

    @Test func connectsThroughAUnixSocketDirectory() throws {
        let url = try DatabaseURL("postgresql:///trustpay?host=/var/run/postgresql&port=5433")
        #expect(url.configuration.unixSocketPath == "/var/run/postgresql/.s.PGSQL.5433")
        #expect(url.configuration.database == "trustpay")
    }

    @Test func rejectsOtherSchemesAndUnknownSSLModes() {
        #expect(throws: DatabaseURLError.notAPostgresURL) { try DatabaseURL("mysql://db/x") }
        #expect(throws: DatabaseURLError.notAPostgresURL) { try DatabaseURL("not a url") }
        #expect(throws: DatabaseURLError.unknownSSLMode("sometimes")) { try DatabaseURL("postgres://db/x?sslmode=sometimes") }
    }
}

extension PostgreSQLTests {
    @Suite struct SchemaTests {
        @Test func recordsEachMigrationOnceWhenReplicasStartTogether() async throws {
            let url = try await sharedServer().createDatabase()
            let inboxes = try await withThrowingTaskGroup(of: PostgresInbox.self) { group in
                for _ in 0..<4 {
                    group.addTask { try await PostgresInbox.connect(url: url, poolSize: 2, operationTimeout: .seconds(30), logger: testLogger) }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            for inbox in inboxes { await inbox.shutdown() }
            let versions = try await withRawClient(url) { client in
                var versions: [Int] = []
                for try await version in try await client.query("SELECT version FROM trustpay_schema_version ORDER BY version")
                    .decode(Int.self)
                {
                    versions.append(version)
                }
                return versions
            }
            #expect(versions == Schema.migrations.map(\.version))
        }

        /// A database of the release before migration 3, with an order's two
        /// events waiting: upgrading holds the second, so it does not run
        /// beside the first.
        @Test func migratingHoldsTheEventsAlreadyWaitingBehindTheirOrder() async throws {
            let url = try await sharedServer().createDatabase()
            try await withRawClient(url) { client in
                try await Schema.migrate(client, upTo: 2, logger: testLogger)
                for (id, order, status) in [("e1", "O-1", 5), ("e2", "O-1", 7), ("e3", "O-2", 5)] {
                    try await client.query(
                        """
                        INSERT INTO trustpay_events (
                            id, idempotency_key, content_hash, kind, merchant_id, order_type, order_no, status,
                            order_ref, is_stale, raw_body, received_at, state)
                        VALUES (\(id), \(id), 'h', 'payment', 1, 0, \(order), \(status), \(order), false, '\\x00', now(), 'pending')
                        """, logger: testLogger)
                }
            }
            let inbox = try await PostgresInbox.connect(
                url: url, poolSize: 2, operationTimeout: .seconds(30), logger: testLogger)
            try await using(inbox) {
                #expect(try await heldEvents(url) == ["e2"])
                let due = try await inbox.claimDue(owner: "w", limit: 10, leaseDuration: .seconds(30), now: Date())
                #expect(due.map(\.id) == ["e1", "e3"])
            }
        }

        /// A database of the release before migration 5 (no history
        /// tables), holding an event: this release migrates it, the event's
        /// history starts empty, and attempts and conflicts are kept from now
        /// on and go with the event.
        @Test func aVersion4DatabaseGainsTheHistoryOfEventsFromNowOn() async throws {
            let url = try await sharedServer().createDatabase()
            try await withRawClient(url) { client in
                try await Schema.migrate(client, upTo: 4, logger: testLogger)
                try await client.query(
                    """
                    INSERT INTO trustpay_events (
                        id, idempotency_key, content_hash, kind, merchant_id, order_type, order_no, status,
                        order_ref, is_stale, raw_body, received_at, state, last_error)
                    VALUES ('e1', 'k1', 'h1', 'payment', 1, 0, 'O-1', 5, 'O-1', false, '\\x00', now(), 'pending', 'old failure')
                    """, logger: testLogger)
            }
            let inbox = try await PostgresInbox.connect(
                url: url, poolSize: 2, operationTimeout: .seconds(30), logger: testLogger)
            try await using(inbox) {
                #expect(try await inbox.history(id: "e1") == EventHistory(), "nothing was kept before")
                let claimed = try await inbox.claimDue(owner: "w", limit: 1, leaseDuration: .seconds(30), now: Date())
                #expect(claimed.map(\.id) == ["e1"])
                let now = Date(timeIntervalSince1970: Date().timeIntervalSince1970.rounded(.down))
                let attempt = HandlerAttempt(number: 1, startedAt: now, endedAt: now.addingTimeInterval(1), outcome: .handled)
                #expect(try await inbox.complete(id: "e1", owner: "w", attempt: attempt))
                #expect(try await inbox.event(id: "e1")?.lastError == "old failure")
                #expect(try await inbox.history(id: "e1").attempts == [attempt])
                #expect(try await inbox.purge(EventFilter()) == 1)
                let left = try await withRawClient(url) { client in
                    var count = -1
                    for try await n in try await client.query(
                        "SELECT count(*) FROM trustpay_attempts", logger: testLogger
                    ).decode(Int.self) {
                        count = n
                    }
                    return count
                }
                #expect(left == 0, "the purge took the history along")
            }
        }

        /// A database of the release before migration 8 (records one at a
        /// time), holding an event recorded by that release's function:
        /// this release migrates it and records in batches on it, seeing
        /// the old event as a repeat and as its order's unfinished first.
        @Test func aVersion7DatabaseRecordsInBatchesAfterUpgrading() async throws {
            let url = try await sharedServer().createDatabase()
            let old = newEvent("O-UP")
            try await withRawClient(url) { client in
                try await Schema.migrate(client, upTo: 7, logger: testLogger)
                try await client.query(
                    """
                    SELECT id FROM trustpay_record_event(
                        'e1', \(old.key.rawValue), 'h1', 'payment', 1, 0, 'O-UP', 5, \(old.order.rawValue), 1, '\\x00',
                        now(), 'callback', 0, NULL, NULL)
                    """, logger: testLogger)
            }
            let inbox = try await PostgresInbox.connect(
                url: url, poolSize: 2, operationTimeout: .seconds(30), logger: testLogger)
            try await using(inbox) {
                let lease = Lease(owner: "w", duration: .seconds(30))
                let repeated = try await inbox.record(newEvent("O-UP"), lease: .ifFirstOfOrder(lease), now: t0)
                #expect(repeated == .duplicate(try #require(try await inbox.event(id: "e1"))))
                let next = try await inbox.record(newEvent("O-UP", status: 7, rank: 2), lease: .ifFirstOfOrder(lease), now: t0)
                guard case .recorded(let event) = next else {
                    Issue.record("not recorded: \(next)")
                    return
                }
                #expect(event.state == .pending, "held behind e1")
                #expect(event.previousStatus == 5)
                let version = try await withRawClient(url) { client in
                    var version = 0
                    for try await v in try await client.query(
                        "SELECT max(version) FROM trustpay_schema_version", logger: testLogger
                    ).decode(Int.self) {
                        version = v
                    }
                    return version
                }
                #expect(version == Schema.latestVersion)
            }
        }

        /// A database of the release before migration 9 (a `BEFORE INSERT`
        /// trigger held new events), with events recorded by that release's
        /// function, one held behind its order's first: this release keeps
        /// them and their holds, records with no row trigger, and holds and
        /// releases as before.
        @Test func aVersion8DatabaseKeepsItsEventsAndHoldsAfterUpgrading() async throws {
            let url = try await sharedServer().createDatabase()
            let older = [newEvent("O-1"), newEvent("O-1", status: 7, rank: 2), newEvent("O-2")]
            try await withRawClient(url) { client in
                try await Schema.migrate(client, upTo: 8, logger: testLogger)
                for (number, event) in older.enumerated() {
                    try await client.query(
                        """
                        SELECT id FROM trustpay_record_event(
                            \("e\(number + 1)"), \(event.key.rawValue), 'h1', 'payment', 1, 0, \(event.orderNo),
                            \(event.status)::integer, \(event.order.rawValue), \(event.statusRank)::integer, '\\x00', now(), 'callback',
                            0, NULL, NULL)
                        """, logger: testLogger)
                }
            }
            let inbox = try await PostgresInbox.connect(
                url: url, poolSize: 2, operationTimeout: .seconds(30), logger: testLogger)
            try await using(inbox) {
                let rowTriggers = try await withRawClient(url) { client in
                    var names: [String] = []
                    for try await name in try await client.query(
                        """
                        SELECT tgname FROM pg_trigger
                        WHERE tgrelid = 'trustpay_events'::regclass AND NOT tgisinternal ORDER BY tgname
                        """, logger: testLogger
                    ).decode(String.self) {
                        names.append(name)
                    }
                    return names
                }
                #expect(rowTriggers == ["trustpay_events_hold_on_delete", "trustpay_events_hold_on_finish"])
                #expect(try await inbox.count(EventFilter()) == 3)
                #expect(try await inbox.event(id: "e2")?.previousStatus == 5, "kept as recorded")
                let lease = Lease(owner: "w", duration: .seconds(30))
                // Recorded now: behind e1 and e2 (held), and first of its order (leased).
                let third = try await inbox.record(newEvent("O-1", status: 9, rank: 3), lease: .ifFirstOfOrder(lease), now: t0)
                #expect(third.event.state == .pending)
                let alone = try await inbox.record(newEvent("O-3"), lease: .ifFirstOfOrder(lease), now: t0)
                #expect(alone.event.state.name == .processing)
                // The claim's NOT EXISTS would keep a slip here from running
                // two events of an order at once: the flag itself is checked.
                try await expectUpgradedHoldsRelease(inbox, url: url, third: third.event.id)
            }
        }

        /// A database of the release before migration 10 (which recorded
        /// a batch one event after another), with events recorded by that
        /// release's batch function, one held behind its order's first:
        /// this release keeps them and their holds, and records the events
        /// alone of their order in a batch (set-based) held behind them or
        /// leased as first of their order, as before.
        @Test func aVersion9DatabaseKeepsItsEventsAndHoldsAfterUpgrading() async throws {
            let url = try await sharedServer().createDatabase()
            try await withRawClient(url) { client in
                try await Schema.migrate(client, upTo: 9, logger: testLogger)
                // One batch of three, two of them of one order (e2 held behind e1).
                try await client.query(
                    """
                    SELECT r.ord FROM trustpay_record_events(
                        ARRAY['e1', 'e2', 'e3'], ARRAY['k1', 'k2', 'k3'], ARRAY['h1', 'h1', 'h1'],
                        ARRAY['payment', 'payment', 'payment'], ARRAY[1, 1, 1]::bigint[], ARRAY[0, 0, 0],
                        ARRAY[true, true, true], ARRAY['O-1', 'O-1', 'O-2'], ARRAY[5, 7, 5], ARRAY['O-1', 'O-1', 'O-2'],
                        ARRAY[1, 2, 1], ARRAY[true, true, true], ARRAY['\\x00', '\\x00', '\\x00']::bytea[],
                        ARRAY[now(), now(), now()], ARRAY['callback', 'callback', 'callback'], ARRAY[0, 0, 0],
                        ARRAY['', '', ''], ARRAY[now(), now(), now()]) AS r
                    """, logger: testLogger)
            }
            let inbox = try await PostgresInbox.connect(
                url: url, poolSize: 2, operationTimeout: .seconds(30), logger: testLogger)
            try await using(inbox) {
                #expect(try await inbox.count(EventFilter()) == 3)
                #expect(try await inbox.event(id: "e2")?.previousStatus == 5, "kept as recorded")
                #expect(try await heldEvents(url) == ["e2"])
                let lease = Lease(owner: "w", duration: .seconds(30))
                // Each alone of its order in its batch: set-based.
                let third = try await inbox.record(
                    newEventOf("O-1", key: "k4", status: 9, rank: 3), lease: .ifFirstOfOrder(lease), now: t0)
                #expect(third.event.state == .pending)
                #expect(third.event.previousStatus == 7)
                let alone = try await inbox.record(newEventOf("O-3", key: "k5"), lease: .ifFirstOfOrder(lease), now: t0)
                #expect(alone.event.state.name == .processing)
                try await expectUpgradedHoldsRelease(inbox, url: url, third: third.event.id)
            }
        }

        /// After an upgrade test recorded `third` behind e1 and e2 of O-1:
        /// e2 and `third` are held, e1 and e3 are claimed, and e1's
        /// completion releases e2 alone.
        func expectUpgradedHoldsRelease(_ inbox: PostgresInbox, url: String, third: String) async throws {
            #expect(try await heldEvents(url) == ["e2", third])
            let due = try await inbox.claimDue(owner: "w", limit: 10, leaseDuration: .seconds(30), now: t0)
            #expect(due.map(\.id) == ["e1", "e3"], "e2 and the third of O-1 still held")
            let attempt = HandlerAttempt(number: 1, startedAt: t0, endedAt: t0, outcome: .handled)
            #expect(try await inbox.complete(id: "e1", owner: "w", attempt: attempt))
            let next = try await inbox.claimDue(owner: "w", limit: 10, leaseDuration: .seconds(30), now: t0)
            #expect(next.map(\.id) == ["e2"], "released by e1's completion, the third still behind it")
            #expect(try await heldEvents(url) == [third])
        }

        /// An event of `order` under `key`, referenced by the order's name
        /// alone (as the version 9 database above was written).
        func newEventOf(_ order: String, key: String, status: Int = 5, rank: Int? = 1) -> NewInboxEvent {
            var event = newEvent(order, status: status, rank: rank)
            event.key = IdempotencyKey(rawValue: key)
            event.order = OrderReference(rawValue: order)
            return event
        }

        @Test func refusesADatabaseMigratedByANewerRelease() async throws {
            let url = try await sharedServer().createDatabase()
            let inbox = try await PostgresInbox.connect(url: url, poolSize: 1, logger: testLogger)
            await inbox.shutdown()
            try await withRawClient(url) { client in
                _ = try await client.query("INSERT INTO trustpay_schema_version (version, summary) VALUES (999, 'from the future')")
            }
            do {
                _ = try await PostgresInbox.connect(url: url, poolSize: 1, logger: testLogger)
                Issue.record("connected to a newer schema")
            } catch let error as StoreError {
                #expect("\(error)".contains("version 999, newer than this release knows"), "\(error)")
            }
        }

        @Test func migratingAgainChangesNothing() async throws {
            try await withInbox { inbox in
                let event = try await inbox.record(newEvent(), lease: .none, now: t0).event
                try await inbox.migrate()
                #expect(try await inbox.event(id: event.id) == event)
            }
        }
    }
}
