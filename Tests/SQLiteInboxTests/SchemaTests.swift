import Foundation
import Inbox
import InboxTesting
import Testing
import TestSupport
import TrustPayWebhooksTesting
import Webhooks
@testable import SQLiteInbox
@testable import SQLiteStore

/// The schema: created from nothing, versioned, guarded, and indexed for
/// what the workers and operators ask.
@Suite struct SchemaTests {
    @Test func anEmptyFileIsMigratedToTheLatestSchema() async throws {
        let directory = try TemporaryDirectory()
        let path = directory.database()
        #expect(FileManager.default.createFile(atPath: path, contents: Data()))
        let inbox = try await SQLiteInbox.open(path: path)
        let (version, journal, tables) = try await inbox.database.read { db in
            (try SchemaMigrator.version(of: db),
             try db.query("PRAGMA journal_mode")[0][0].string,
             try db.query("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").compactMap { $0[0].string })
        }
        #expect(version == SQLiteInbox.schemaVersion)
        #expect(journal == "wal")
        #expect(tables == [
            "expected_orders", "inbox_attempts", "inbox_conflicting_copies", "inbox_events", "order_last_status",
            "order_query_leases", "schema_version",
        ])
        _ = try await inbox.record(newEvent(), lease: .none, now: t0)
        await inbox.close()

        let reopened = try await SQLiteInbox.open(path: path)
        #expect(try await reopened.list(EventFilter()).count == 1, "reopening migrates nothing and keeps the data")
        await reopened.close()
    }

    @Test func aDatabaseFromANewerReleaseIsRefusedWithAClearError() async throws {
        let directory = try TemporaryDirectory()
        let path = directory.database()
        let inbox = try await SQLiteInbox.open(path: path)
        try await inbox.database.write { db in try db.execute("INSERT INTO schema_version (version) VALUES (99)") }
        await inbox.close()
        let error = await #expect(throws: StoreError.self) { _ = try await SQLiteInbox.open(path: path) }
        guard case .unavailable(let reason)? = error else { Issue.record("not unavailable: \(String(describing: error))"); return }
        #expect(reason.contains("schema version 99") && reason.contains(path), "\(reason)")
    }

    @Test func aFileThatIsNotADatabaseIsRefused() async throws {
        let directory = try TemporaryDirectory()
        let path = directory.database()
        #expect(FileManager.default.createFile(atPath: path, contents: Data(repeating: 0x41, count: 4096)))
        let error = await #expect(throws: StoreError.self) { _ = try await SQLiteInbox.open(path: path) }
        guard case .unavailable(let reason)? = error else { Issue.record("not unavailable: \(String(describing: error))"); return }
        #expect(reason.contains(path), "\(reason)")
    }

    @Test func theStateColumnsCannotContradictTheState() async throws {
        try await withInbox { inbox, _ in
            let event = try await inbox.record(newEvent(), lease: .none, now: t0).event
            await #expect(throws: SQLiteError.self) {
                try await inbox.database.write { db in
                    try db.execute("UPDATE inbox_events SET state = 'processing' WHERE id = ?", .text(event.id))
                }
            }
            await #expect(throws: SQLiteError.self) {
                try await inbox.database.write { db in
                    try db.execute("UPDATE inbox_events SET completed_at = 1 WHERE id = ?", .text(event.id))
                }
            }
            #expect(try await inbox.event(id: event.id) == event)
        }
    }

    @Test func claimsPruningAndFiltersAreServedByIndexes() async throws {
        try await withInbox { inbox, _ in
            let prune = SQLiteInbox.completed(before: t0)
            let filters: [EventFilter] = [
                .deadLetters, EventFilter(merchantID: 1, status: 5), EventFilter(orderNo: "O-1"),
                EventFilter(receivedFrom: at(-60), receivedBefore: at(60)),
            ]
            var statements: [(String, [SQLiteValue])] = [
                (SQLiteInbox.dueEvents, [.null, .null, .time(t0), .integer(10)]),
                (SQLiteInbox.deletion(prune, oldestFirst: false), prune.parameters + [.integer(1000)]),
                ("SELECT count(*) FROM inbox_events WHERE state = ?", [.text("dead")]),
                ("SELECT \(EventRows.columns) FROM inbox_events WHERE idempotency_key = ?", [.text("k")]),
            ]
            for filter in filters {
                for newestFirst in [false, true] {
                    statements.append((SQLiteInbox.listing(filter.condition, newestFirst: newestFirst),
                                       filter.condition.parameters + [filter.sqlLimit, .integer(0)]))
                }
                statements.append(("SELECT count(*) FROM inbox_events WHERE \(filter.condition.sql)", filter.condition.parameters))
            }
            for (sql, parameters) in statements {
                let plan = try await inbox.database.read { db in
                    try db.query("EXPLAIN QUERY PLAN " + sql, parameters: parameters).compactMap { $0["detail"]?.string }
                }
                // "SCAN c USING INDEX …" walks an index in order; a bare "SCAN inbox_events" (or an alias) reads the table.
                let tableScans = plan.filter { $0.hasPrefix("SCAN ") && !$0.contains("USING") && !$0.contains("(subquery") }
                #expect(tableScans.isEmpty, "a full scan for \(sql): \(plan)")
                #expect(plan.contains { $0.contains("USING") && $0.contains("INDEX") }, "\(sql): \(plan)")
            }
            // Pruning reads only completed events, by completion time (migration 8).
            let prunePlan = try await inbox.database.read { db in
                try db.query("EXPLAIN QUERY PLAN " + SQLiteInbox.deletion(prune, oldestFirst: false),
                             parameters: prune.parameters + [.integer(1000)]).compactMap { $0["detail"]?.string }
            }
            #expect(prunePlan.contains { $0.contains("USING INDEX inbox_events_completed (completed_at<?)") }, "\(prunePlan)")
        }
    }

    /// A backlog of pending events is read in receipt order from its own
    /// index and cut at the limit: no claim sorts the whole backlog, which
    /// made each claim cost milliseconds with 30,000 events waiting. Retries
    /// and leases likewise: without INDEXED BY, after migration 8, the
    /// planner sorted every event in their state.
    @Test func claimsReadPendingEventsInIndexOrderWithoutSortingThem() async throws {
        try await withInbox { inbox, _ in
            // Lines "PARENT DETAIL": the steps under one parent run together.
            let plan: [String] = try await inbox.database.read { db in
                try db.query("EXPLAIN QUERY PLAN " + SQLiteInbox.dueEvents, parameters: [.null, .null, .time(t0), .integer(1)])
                    .compactMap { row in
                        guard let parent = row["parent"]?.int64, let detail = row["detail"]?.string else { return nil }
                        return "\(parent) \(detail)"
                    }
            }
            // Pending events, retries that fell due and expired leases, each
            // read in order from an index of their own (migrations 2 and 8).
            for (part, step) in [("pending events", " SCAN c USING INDEX inbox_events_pending"),
                                 ("retries", " SEARCH c USING INDEX inbox_events_retry_due (next_attempt_at<?)"),
                                 ("leases", " SEARCH c USING INDEX inbox_events_lease_end (lease_until<?)")] {
                let read = plan.first { $0.hasSuffix(step) }
                #expect(read != nil, "\(part) not read from their index: \(plan)")
                let parent = read?.split(separator: " ").first
                let siblings = plan.filter { $0.split(separator: " ").first == parent }
                #expect(!siblings.contains { $0.contains("TEMP B-TREE") }, "\(part) sorted: \(siblings)")
            }
            // Whether an earlier event of the order is unfinished: one index probe per candidate, in each part.
            let probes = plan.filter { $0.hasSuffix(" SEARCH earlier USING INDEX inbox_events_open_by_order (order_ref=? AND seq<?)") }
            #expect(probes.count == 3, "the order check is not an index probe: \(plan)")
        }
    }

    /// A database written before migration 3 has its waiting events held
    /// when it is opened by this release: an order's second event does not
    /// run beside its first.
    @Test func migratingHoldsTheEventsAlreadyWaitingBehindTheirOrder() async throws {
        let directory = try TemporaryDirectory()
        let path = directory.database()
        let old = try await SQLiteDatabase(path: path, migrations: [InboxSchema.version1, InboxSchema.version2])
        // Rows as that release wrote them: this release's `record` writes
        // columns of later migrations.
        let events = [("first", "O-1", 5), ("second", "O-1", 7), ("other", "O-2", 5)]
        try await old.write { db in
            for (id, order, status) in events {
                try db.execute(
                    """
                    INSERT INTO inbox_events (
                        id, idempotency_key, content_hash, kind, merchant_id, order_type, order_no, status, order_ref,
                        is_stale, raw_body, received_at, state, updated_at)
                    VALUES (?, ?, 'h', 'payment', 1, 0, ?, ?, ?, 0, x'7b7d', 0, 'pending', 0)
                    """,
                    .text(id), .text("[\"\(order)\",\(status)]"), .text(order), .integer(Int64(status)), .text(order))
            }
        }
        await old.close()

        let inbox = try await SQLiteInbox.open(path: path)
        let held = try await inbox.database.read { db in
            try db.query("SELECT order_no, status FROM inbox_events WHERE held = 1")
                .map { "\($0["order_no"]?.string ?? "?") \($0["status"]?.int64 ?? -1)" }
        }
        #expect(held == ["O-1 7"])
        let due = try await inbox.claimDue(owner: "w", limit: 10, leaseDuration: .seconds(30), now: t0)
        #expect(due.map(\.id) == ["first", "other"])
        #expect(due.allSatisfy { $0.source == .callback }, "events stored before migration 5 are callbacks")
        await inbox.close()
    }

    /// A database of the release before migration 4 (no history tables),
    /// holding a failed event: this release opens it, its events have an
    /// empty history, and their attempts and conflicts from now on are kept
    /// and go with them when purged.
    @Test func aVersion3DatabaseGainsTheHistoryOfEventsFromNowOn() async throws {
        let directory = try TemporaryDirectory()
        let path = directory.database()
        let old = try await SQLiteDatabase(
            path: path, migrations: [InboxSchema.version1, InboxSchema.version2, InboxSchema.version3])
        // A row as that release wrote it (this release's record writes the
        // columns of later migrations): claimed once, failed, waiting.
        let event = newEvent()
        try await old.write { db in
            try db.execute(
                """
                INSERT INTO inbox_events (
                    id, idempotency_key, content_hash, kind, merchant_id, order_type, order_no, status, order_ref, is_stale,
                    raw_body, received_at, state, next_attempt_at, attempts, last_error, updated_at)
                VALUES (?, ?, ?, 'payment', ?, 0, ?, ?, ?, 0, ?, ?, 'waiting-retry', ?, 1, 'old failure', ?)
                """,
                parameters: [
                    .text(event.id), .text(event.key.rawValue), .text(event.contentHash), .integer(event.merchantID),
                    .text(event.orderNo), .integer(Int64(event.status)), .text(event.order.rawValue), .blob(event.rawBody),
                    .time(event.receivedAt), .time(t0), .time(t0),
                ])
        }
        await old.close()

        let inbox = try await SQLiteInbox.open(path: path)
        #expect(try await inbox.database.read { try SchemaMigrator.version(of: $0) } == SQLiteInbox.schemaVersion)
        #expect(try await inbox.history(id: event.id) == EventHistory(), "nothing was kept before")
        #expect(try await inbox.event(id: event.id)?.lastError == "old failure")
        let claimed = try await inbox.claimDue(owner: "w", limit: 1, leaseDuration: .seconds(30), now: t0)
        #expect(claimed.map(\.attempts) == [2])
        let attempt = HandlerAttempt(number: 2, startedAt: t0, endedAt: t0.addingTimeInterval(1), outcome: .handled)
        #expect(try await inbox.complete(id: event.id, owner: "w", attempt: attempt))
        _ = try await inbox.record(newEvent(hash: "other"), lease: .none, now: t0)
        let history = try await inbox.history(id: event.id)
        #expect(history.attempts == [attempt] && history.conflictingCopies.map(\.contentHash) == ["other"])
        #expect(try await inbox.purge(EventFilter()) == 1)
        let left = try await inbox.database.read { db in
            try db.query("SELECT (SELECT count(*) FROM inbox_attempts) + (SELECT count(*) FROM inbox_conflicting_copies)")[0][0].int
        }
        #expect(left == 0, "the purge took the history along")
        await inbox.close()
    }

    /// Events waiting behind an earlier one of their order are held, out of
    /// the pending index, so a claim never reads them: with a merchant's
    /// handlers failing for minutes they pile up, and each claim (on the
    /// writer thread) would read them all. The triggers release each as
    /// its order's earlier event finishes.
    @Test func eventsWaitingBehindTheirOrderAreLeftOutOfThePendingIndex() async throws {
        try await withInbox { inbox, _ in
            let lease = Lease(owner: "w", duration: .seconds(600))
            var firsts: [String] = []
            for index in 0..<500 {
                firsts.append(try await inbox.record(newEvent("O-\(index)", status: 5), lease: .always(lease), now: t0).event.id)
                _ = try await inbox.record(newEvent("O-\(index)", status: 7, rank: 2), lease: .none, now: t0)
            }
            func indexed() async throws -> Int64 {
                try await inbox.database.read { db in
                    try db.query(
                        "SELECT count(*) AS n FROM inbox_events INDEXED BY inbox_events_pending WHERE state = 'pending' AND held = 0"
                    ).first?["n"]?.int64 ?? -1
                }
            }
            #expect(try await indexed() == 0, "every second event waits behind its order's first")
            #expect(try await inbox.claimDue(owner: "v", limit: 10, leaseDuration: .seconds(30), now: t0).isEmpty)
            for id in firsts.prefix(200) { #expect(try await inbox.complete(id: id, owner: "w", now: t0)) }
            #expect(try await indexed() == 200, "each first that finished released its order's next")
            let due = try await inbox.claimDue(owner: "v", limit: 1000, leaseDuration: .seconds(30), now: t0)
            #expect(due.count == 200 && due.allSatisfy { $0.status == 7 })
        }
    }
}

