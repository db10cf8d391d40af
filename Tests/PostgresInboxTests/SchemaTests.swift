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
                let held = try await withRawClient(url) { client in
                    var ids: [String] = []
                    for try await id in try await client.query(
                        "SELECT id FROM trustpay_events WHERE held ORDER BY id", logger: testLogger
                    ).decode(String.self) {
                        ids.append(id)
                    }
                    return ids
                }
                #expect(held == ["e2"])
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
                #expect(version == 8)
            }
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
