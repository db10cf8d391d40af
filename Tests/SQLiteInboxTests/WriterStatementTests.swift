import Foundation
import Inbox
import InboxTesting
import Testing
import TestSupport
@testable import SQLiteInbox
@testable import SQLiteStore

/// What the writer thread runs for each durable callback: its statements
/// stay cheap (issue #14), and migration 6, which made them so, keeps an
/// existing database's holds and triggers working.
@Suite struct WriterStatementTests {
    /// SQLite builds a temporary B-tree, at every run, for a constant IN
    /// list of three values or more and for RETURNING. The index of an
    /// order's unfinished events had such a list in its condition, which
    /// SQLite evaluates at every insert and update of an event, and the
    /// hold triggers repeated it (about 15 per callback with RETURNING); the
    /// CHECK on `state`'s five values did too until migration 7, and the
    /// record was an INSERT … SELECT, whose row SQLite materializes first
    /// on a table with triggers (now the order is read apart,
    /// ``orderReading``, and the insert takes VALUES). None
    /// is left. Failed with 2 for the record and 1 for the completion
    /// before migration 7 and the separate read.
    @Test func aCallbacksRecordAndCompletionBuildNoTemporaryBTree() async throws {
        try await withInbox { inbox, _ in
            // Name, SQL, its parameters (bound to NULL: EXPLAIN only compiles), temporary B-trees.
            let statements = [
                ("the order's events", SQLiteInbox.orderReading, 4, 0), ("record", SQLiteInbox.insertion, 20, 0),
                ("completion", SQLiteInbox.completion, 3, 0),
                // The CHECK on its outcome, an IN list of four until migration 10.
                ("the attempt a completion keeps", SQLiteInbox.attemptInsertion, 6, 0),
            ]
            // No trigger runs at an insert: record sets the new event's hold (migration 9).
            let triggers = try await inbox.database.read { db in
                try db.query("SELECT name FROM sqlite_master WHERE type = 'trigger' ORDER BY name")
                    .compactMap { $0[0].string }
            }
            #expect(triggers == ["inbox_events_hold_on_delete", "inbox_events_hold_on_finish",
                                 "inbox_events_release_order"])
            let finish = try await inbox.database.read { db in
                try db.query("SELECT sql FROM sqlite_master WHERE name = 'inbox_events_hold_on_finish'")[0][0].string ?? ""
            }
            #expect(finish.contains("AFTER UPDATE OF completed_at, dead_at"), "\(finish)")
            for (name, sql, parameters, expected) in statements {
                let opcodes = try await inbox.database.read { db in
                    try db.query("EXPLAIN " + sql, parameters: Array(repeating: .null, count: parameters))
                        .compactMap { $0["opcode"]?.string }
                }
                #expect(!opcodes.isEmpty, "\(name): no program")
                #expect(opcodes.count { $0 == "OpenEphemeral" } == expected, "\(name): \(opcodes)")
            }
        }
    }

    /// A database of the release before migration 6, with an order's second
    /// event held behind its first: this release opens it, keeps the holds,
    /// and its triggers keep them as before (a finished first releases the
    /// second; a new event of an order with one unfinished waits).
    @Test func aVersion5DatabaseKeepsItsHoldsAndTheirTriggers() async throws {
        let directory = try TemporaryDirectory()
        let path = directory.database()
        let old = try await SQLiteDatabase(path: path, migrations: Array(InboxSchema.migrations.prefix(5)))
        // Rows as that release wrote them (keys and orders as `newEvent`
        // makes them, so that this release's events join their orders);
        // its triggers set `held`.
        let events = [("first", newEvent("O-1", status: 5)), ("second", newEvent("O-1", status: 7)),
                      ("other", newEvent("O-2", status: 5))]
        try await old.write { db in
            for (id, event) in events {
                try db.execute(
                    """
                    INSERT INTO inbox_events (
                        id, idempotency_key, content_hash, kind, merchant_id, order_type, order_no, status, order_ref,
                        is_stale, raw_body, received_at, state, updated_at, source)
                    VALUES (?, ?, 'h', 'payment', 1, 0, ?, ?, ?, 0, x'7b7d', 0, 'pending', 0, 'callback')
                    """,
                    .text(id), .text(event.key.rawValue), .text(event.orderNo), .integer(Int64(event.status)),
                    .text(event.order.rawValue))
            }
        }
        await old.close()

        let inbox = try await SQLiteInbox.open(path: path)
        #expect(try await inbox.database.read { try SchemaMigrator.version(of: $0) } == SQLiteInbox.schemaVersion)
        #expect(try await heldEvents(inbox) == ["second"])
        let due = try await inbox.claimDue(owner: "w", limit: 10, leaseDuration: .seconds(30), now: t0)
        #expect(due.map(\.id) == ["first", "other"])

        let later = try await inbox.record(newEvent("O-2", status: 7, rank: 2), lease: .none, now: t0)
        #expect(try await heldEvents(inbox) == ["second", later.event.id], "a new event waits behind its order's unfinished one")
        #expect(try await inbox.complete(id: "first", owner: "w", now: t0))
        #expect(try await heldEvents(inbox) == [later.event.id], "the first finished: the second is released")
        #expect(try await inbox.claimDue(owner: "w", limit: 10, leaseDuration: .seconds(30), now: t0).map(\.id) == ["second"])
        await inbox.close()
    }

    /// A database of the release before migration 7 gets the CHECK on
    /// `state` rewritten in place: the same rule (a state outside the five
    /// is still refused), no temporary B-tree at a change of state, the
    /// stored events untouched and the file sound.
    @Test func aVersion6DatabaseGetsTheSameStateCheckWithoutATemporaryBTree() async throws {
        let directory = try TemporaryDirectory()
        let path = directory.database()
        let old = try await SQLiteDatabase(path: path, migrations: Array(InboxSchema.migrations.prefix(6)))
        try await old.write { db in
            try db.execute(
                """
                INSERT INTO inbox_events (
                    id, idempotency_key, content_hash, kind, merchant_id, order_type, order_no, status, order_ref,
                    is_stale, raw_body, received_at, state, updated_at, source)
                VALUES ('kept', 'k', 'h', 'payment', 1, 0, 'O-1', 5, 'O-1', 0, x'7b7d', 0, 'pending', 0, 'callback')
                """)
        }
        await old.close()

        let inbox = try await SQLiteInbox.open(path: path)
        let (definition, integrity, ephemeral) = try await inbox.database.read { db in
            (try db.query("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'inbox_events'")[0][0].string ?? "",
             try db.query("PRAGMA integrity_check")[0][0].string,
             try db.query("EXPLAIN " + SQLiteInbox.completion, parameters: [.null, .null, .null])
                .count { $0["opcode"]?.string == "OpenEphemeral" })
        }
        #expect(definition.contains("CHECK (state = 'pending' OR state = 'processing' OR state = 'waiting-retry' OR "
                                    + "state = 'completed' OR state = 'dead')"), "\(definition)")
        #expect(!definition.contains("state IN ("), "\(definition)")
        #expect(integrity == "ok")
        #expect(ephemeral == 0)
        #expect(try await inbox.event(id: "kept")?.state == .pending)
        await #expect(throws: (any Error).self) {
            try await inbox.database.write { db in
                try db.execute("UPDATE inbox_events SET state = 'lost' WHERE id = 'kept'")
            }
        }
        let claimed = try await inbox.claimDue(owner: "w", limit: 10, leaseDuration: .seconds(30), now: t0)
        #expect(claimed.map(\.id) == ["kept"])
        #expect(try await inbox.complete(id: "kept", owner: "w", now: t0))
        await inbox.close()
    }

    /// SQLite opens a statement journal (a savepoint and a copy of each
    /// page the statement changes) for a statement that writes several rows
    /// or fires a trigger, or checks a foreign key by a counter, if it may
    /// abort: a constraint halting with ABORT (2 in a Halt's P2), or a
    /// foreign key counted (FkCounter). The changes of an event's state on
    /// the hot path fire the hold triggers, so they are OR FAIL (3); the
    /// attempt a completion keeps goes in by VALUES, so its foreign key is
    /// checked in place. Failed before: 3 to 4 aborting halts in each
    /// UPDATE, and an FkCounter in the attempt's INSERT … SELECT.
    @Test func theHotWritesOpenNoStatementJournal() async throws {
        try await withInbox { inbox, _ in
            let statements = [
                ("completion", SQLiteInbox.completion, 3), ("failure", SQLiteInbox.failure, 5),
                ("dead letter", SQLiteInbox.deadLettering, 4), ("claim of due events", SQLiteInbox.dueClaim, 4),
                ("claim of pending events", SQLiteInbox.pendingClaim, 4), ("claim of one event", SQLiteInbox.claiming, 4), ("attempt kept", SQLiteInbox.attemptInsertion, 6),
            ]
            for (name, sql, parameters) in statements {
                let program = try await inbox.database.read { db in
                    try db.query("EXPLAIN " + sql, parameters: Array(repeating: .null, count: parameters))
                        .map { ($0["opcode"]?.string ?? "", $0["p2"]?.int64 ?? 0) }
                }
                #expect(!program.isEmpty, "\(name): no program")
                let aborting = program.filter { ($0.0 == "Halt" || $0.0 == "HaltIfNull") && $0.1 == 2 }
                let multiWrite = program.contains { $0.0 == "Program" } || sql.contains("SELECT")
                #expect(!multiWrite || aborting.isEmpty, "\(name): \(aborting.count) constraints abort")
                #expect(!program.contains { $0.0 == "FkCounter" }, "\(name): a foreign key checked by a counter")
            }
        }
    }

    /// Migration 11: the hold trigger runs only where an event becomes
    /// finished or unfinished (it fires on `completed_at` and `dead_at`), not
    /// at every claimed event and failed attempt, which change `state` only
    /// (a trigger's program is entered, a frame allocated, before its WHEN
    /// is tested). A finish written by hand still releases the order's next
    /// event. Failed before migration 11: a Program in each claim and failure.
    @Test func onlyAFinishEntersTheHoldTrigger() async throws {
        try await withInbox { inbox, _ in
            let statements = [
                ("completion", SQLiteInbox.completion, 3, true), ("dead letter", SQLiteInbox.deadLettering, 4, true),
                ("claim of due events", SQLiteInbox.dueClaim, 4, false), ("claim of one event", SQLiteInbox.claiming, 4, false),
                ("claim of pending events", SQLiteInbox.pendingClaim, 4, false), ("failure", SQLiteInbox.failure, 5, false),
            ]
            for (name, sql, parameters, entersTrigger) in statements {
                let opcodes = try await inbox.database.read { db in
                    try db.query("EXPLAIN " + sql, parameters: Array(repeating: .null, count: parameters))
                        .compactMap { $0["opcode"]?.string }
                }
                #expect(opcodes.contains("Program") == entersTrigger, "\(name)")
            }
            let first = try await inbox.record(newEvent("O-1", status: 5), lease: .none, now: t0).event.id
            let second = try await inbox.record(newEvent("O-1", status: 7, rank: 2), lease: .none, now: t0).event.id
            #expect(try await inbox.claimDue(owner: "w", limit: 10, leaseDuration: .seconds(30), now: t0).map(\.id) == [first])
            try await inbox.database.write { db in
                try db.execute("""
                    UPDATE inbox_events SET state = 'completed', completed_at = 0, lease_owner = NULL, lease_until = NULL
                    WHERE id = ?
                    """, .text(first))
            }
            #expect(try await inbox.claimDue(owner: "w", limit: 10, leaseDuration: .seconds(30), now: t0).map(\.id) == [second])
        }
    }

    /// A claim first asks whether anything is due, with three index probes
    /// that build no temporary B-tree; the claim's UPDATE (seven of them)
    /// runs only when something is. Whether a pending event, a retry that
    /// fell due or an expired lease, each only as the first unfinished event
    /// of its order, the answer is the claim's.
    @Test func aClaimAsksFirstWhetherAnythingIsDue() async throws {
        try await withInbox { inbox, _ in
            let (plan, ephemeral) = try await inbox.database.read { db in
                (try db.query("EXPLAIN QUERY PLAN " + SQLiteInbox.anythingDue, .time(t0)).compactMap { $0["detail"]?.string },
                 try db.query("EXPLAIN " + SQLiteInbox.anythingDue, .time(t0)).count { $0["opcode"]?.string == "OpenEphemeral" })
            }
            #expect(ephemeral == 0)
            #expect(!plan.contains { $0.contains("TEMP B-TREE") }, "\(plan)")
            #expect(plan.count { $0.contains("SEARCH earlier USING INDEX inbox_events_open_by_order") } == 3, "\(plan)")
            for index in ["inbox_events_pending", "inbox_events_retry_due", "inbox_events_lease_end"] {
                #expect(plan.contains { $0.contains("USING INDEX \(index)") }, "\(index): \(plan)")
            }
            // Its three flags: a pending event, a retry that fell due, an expired lease.
            func due(at seconds: Double) async throws -> [Int64?] {
                try await inbox.database.read { db in try db.query(SQLiteInbox.anythingDue, .time(at(seconds)))[0].values.map(\.int64) }
            }
            func anythingDue(at seconds: Double) async throws -> Bool { try await due(at: seconds).contains(1) }
            #expect(try await !anythingDue(at: 0))
            let first = try await inbox.record(newEvent("O-1", status: 5), lease: .none, now: t0).event.id
            let second = try await inbox.record(newEvent("O-1", status: 7, rank: 2), lease: .none, now: t0).event.id
            #expect(try await due(at: 0) == [1, 0, 0], "a pending event")
            #expect(try await inbox.claimDue(owner: "w", limit: 10, leaseDuration: .seconds(30), now: t0).map(\.id) == [first])
            #expect(try await !anythingDue(at: 29), "the second waits behind the first, leased until 30")
            #expect(try await due(at: 30) == [0, 0, 1], "the first's lease ended")
            #expect(try await inbox.claimDue(owner: "w", limit: 10, leaseDuration: .seconds(30), now: at(29)).isEmpty)
            #expect(try await inbox.fail(id: first, owner: "w", attempt: HandlerAttempt(
                number: 1, startedAt: t0, endedAt: t0, outcome: .failed, error: "no stock"), retryAt: at(60)))
            #expect(try await !anythingDue(at: 59), "the second still waits behind the first's retry")
            #expect(try await due(at: 60) == [0, 1, 0], "a retry fell due")
            #expect(try await inbox.claimDue(owner: "w", limit: 10, leaseDuration: .seconds(30), now: at(60)).map(\.id) == [first])
            #expect(try await inbox.complete(id: first, owner: "w", now: at(61)))
            #expect(try await inbox.claimDue(owner: "w", limit: 10, leaseDuration: .seconds(30), now: at(61)).map(\.id) == [second])
        }
    }

    /// When only pending events are due, as under load (new events that
    /// found the hand-off full, no retry due, no lease ended), a claim takes
    /// them straight from their index in order of receipt: no union of the
    /// three parts to sort and cut, which ``dueClaim`` builds temporary
    /// B-trees for even when two of its parts are empty (6 against 3,
    /// RETURNING's and IN's). It claims what ``dueClaim`` would: the first
    /// unfinished event of each order, the oldest first, up to the limit;
    /// with a retry due too, the full claim runs and the pending events
    /// still come first (they are due since they arrived).
    @Test func aClaimOfOnlyPendingEventsSortsNoUnion() async throws {
        try await withInbox { inbox, _ in
            let ephemeral = try await inbox.database.read { db in
                try [SQLiteInbox.pendingClaim, SQLiteInbox.dueClaim].map { sql in
                    try db.query("EXPLAIN " + sql, parameters: Array(repeating: .null, count: 4))
                        .count { $0["opcode"]?.string == "OpenEphemeral" }
                }
            }
            #expect(ephemeral[0] < ephemeral[1], "\(ephemeral)")
            #expect(ephemeral[0] <= 3, "\(ephemeral)")
            let plan = try await inbox.database.read { db in
                try db.query("EXPLAIN QUERY PLAN " + SQLiteInbox.pendingClaim, parameters: Array(repeating: .null, count: 4))
                    .compactMap { $0["detail"]?.string }
            }
            #expect(plan.contains { $0.contains("SCAN c USING INDEX inbox_events_pending") }, "\(plan)")
            #expect(!plan.contains { $0.contains("TEMP B-TREE") }, "\(plan)")

            var ids: [String] = []
            for (order, status) in [("O-1", 5), ("O-1", 7), ("O-2", 5), ("O-3", 5), ("O-4", 5)] {
                ids.append(try await inbox.record(newEvent(order, status: status, rank: status), lease: .none, now: t0).event.id)
            }
            // O-1's second waits behind its first.
            #expect(try await inbox.claimDue(owner: "w", limit: 2, leaseDuration: .seconds(30), now: t0).map(\.id) == [ids[0], ids[2]])
            #expect(try await inbox.fail(id: ids[2], owner: "w", attempt: HandlerAttempt(
                number: 1, startedAt: t0, endedAt: t0, outcome: .failed, error: "no stock"), retryAt: at(1)))
            #expect(try await inbox.claimDue(owner: "w", limit: 1, leaseDuration: .seconds(30), now: t0).map(\.id) == [ids[3]])
            // A retry due as well: the full claim, the pending event first (due since it arrived), then the retry.
            #expect(try await inbox.claimDue(owner: "w", limit: 1, leaseDuration: .seconds(30), now: at(1)).map(\.id) == [ids[4]])
            #expect(try await inbox.claimDue(owner: "w", limit: 10, leaseDuration: .seconds(30), now: at(1)).map(\.id) == [ids[2]])
            #expect(try await inbox.complete(id: ids[0], owner: "w", now: at(1)))
            #expect(try await inbox.claimDue(owner: "w", limit: 10, leaseDuration: .seconds(30), now: at(1)).map(\.id) == [ids[1]])
        }
    }

    /// A database of the release before migration 10 (its order's second
    /// and third events held behind the first, another order's event
    /// finished with its attempt kept): this release opens it, keeps its
    /// rows, attempts and holds, and gets the CHECK on an attempt's outcome
    /// rewritten in place (the same rule, the file sound). Its holds then
    /// change as before (the same expectations pass on a version 9
    /// database): a finished first releases the second, a replayed event
    /// ahead of its order's first unfinished one holds that one again, a
    /// finish behind the first changes no hold.
    @Test func aVersion9DatabaseKeepsItsRowsAndHolds() async throws {
        let directory = try TemporaryDirectory()
        let path = directory.database()
        let old = SQLiteInbox(
            database: try await SQLiteDatabase(path: path, migrations: Array(InboxSchema.migrations.prefix(9))))
        var ids: [String] = []
        for (order, status) in [("O-1", 5), ("O-1", 7), ("O-1", 9), ("O-2", 5)] {
            ids.append(try await old.record(newEvent(order, status: status, rank: status), lease: .none, now: t0).event.id)
        }
        let (first, second, third, other) = (ids[0], ids[1], ids[2], ids[3])
        #expect(try await old.claimDue(owner: "w", limit: 10, leaseDuration: .seconds(30), now: t0).map(\.id) == [first, other])
        #expect(try await old.complete(id: other, owner: "w", now: t0))
        await old.close()

        let inbox = try await SQLiteInbox.open(path: path)
        #expect(try await inbox.database.read { try SchemaMigrator.version(of: $0) } == SQLiteInbox.schemaVersion)
        #expect(try await inbox.list(EventFilter()).map(\.id) == ids)
        #expect(try await inbox.event(id: other)?.state == .completed(at: t0))
        #expect(try await inbox.history(id: other).attempts.count == 1)
        #expect(try await heldEvents(inbox) == [second, third])
        // Migration 10: the same rule on an attempt's outcome, the file sound.
        let (definition, integrity) = try await inbox.database.read { db in
            (try db.query("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'inbox_attempts'")[0][0].string ?? "",
             try db.query("PRAGMA integrity_check")[0][0].string)
        }
        #expect(definition.contains("CHECK (outcome = 'handled' OR outcome = 'failed' OR outcome = 'timed-out' OR "
                                    + "outcome = 'lease-lost')"), "\(definition)")
        #expect(integrity == "ok")
        await #expect(throws: (any Error).self) {
            try await inbox.database.write { db in
                try db.execute("""
                    INSERT INTO inbox_attempts (event_id, number, started_at, ended_at, outcome) VALUES (?, 2, 0, 0, 'lost')
                    """, .text(other))
            }
        }

        #expect(try await inbox.complete(id: first, owner: "w", now: t0))
        #expect(try await heldEvents(inbox) == [third], "the first finished: the second is released, the third still waits")
        #expect(try await inbox.claimDue(owner: "w", limit: 10, leaseDuration: .seconds(30), now: t0).map(\.id) == [second])
        // Replayed ahead of the order's first unfinished event: that one waits again.
        #expect(try await inbox.replay(id: first, now: t0) != nil)
        #expect(try await heldEvents(inbox) == [second, third])
        // A finish behind the first changes no hold (a finished event's stays as it was).
        #expect(try await inbox.deadLetter(id: second, owner: "w", attempt: HandlerAttempt(
            number: 1, startedAt: t0, endedAt: t0, outcome: .failed, error: "no stock")))
        #expect(try await heldEvents(inbox) == [second, third])
        #expect(try await inbox.claimDue(owner: "w", limit: 10, leaseDuration: .seconds(30), now: t0).map(\.id) == [first])
        #expect(try await inbox.complete(id: first, owner: "w", now: t0))
        #expect(try await heldEvents(inbox) == [second], "the third is now its order's only unfinished event")
        #expect(try await inbox.claimDue(owner: "w", limit: 10, leaseDuration: .seconds(30), now: t0).map(\.id) == [third])
        await inbox.close()
    }
}

/// The ids of the events flagged held, in receipt order: checked directly,
/// since a claim's own check of the order would hide a wrong flag.
private func heldEvents(_ inbox: SQLiteInbox) async throws -> [String] {
    try await inbox.database.read { db in
        try db.query("SELECT id FROM inbox_events WHERE held = 1 ORDER BY seq").compactMap { $0["id"]?.string }
    }
}
