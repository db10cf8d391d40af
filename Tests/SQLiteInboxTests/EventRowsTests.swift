import Foundation
import Inbox
import InboxTesting
import Testing
import TestSupport
@testable import SQLiteInbox
@testable import SQLiteStore

/// An event's row is read by position when it has ``EventRows/columns``
/// (every query of events), by name otherwise: both give the same event.
@Suite struct EventRowsTests {
    @Test func eachEventColumnIsReadFromItsPlace() {
        let columns: [RowColumn] = [
            .seq, .id, .idempotencyKey, .contentHash, .kind, .merchantId, .orderType, .orderNo, .status, .orderRef,
            .previousStatus, .isStale, .rawBody, .receivedAt, .state, .leaseOwner, .leaseUntil, .nextAttemptAt,
            .completedAt, .deadAt, .attempts, .lastError, .conflicts, .source,
        ]
        #expect(EventRows.columnNames.count == 24)
        #expect(columns.map(\.name) == EventRows.columnNames)
        #expect(columns.map(\.position) == Array(0..<24))
    }

    /// A claimed event (every state column but the finished ones set), a
    /// failed one and a completed one, each read from the columns in their
    /// order and from the same values in reverse order (by name).
    @Test func byPositionAndByNameAlike() async throws {
        try await withInbox { inbox, _ in
            let first = try await inbox.record(newEvent("O-1", status: 5), lease: .none, now: t0).event.id
            let second = try await inbox.record(newEvent("O-2", status: 5, body: bytes(3)), lease: .none, now: t0).event.id
            let third = try await inbox.record(newEvent("O-3", status: 5), lease: .none, now: t0).event.id
            #expect(try await inbox.claimDue(owner: "w", limit: 10, leaseDuration: .seconds(30), now: t0).count == 3)
            #expect(try await inbox.fail(id: second, owner: "w", attempt: HandlerAttempt(
                number: 1, startedAt: t0, endedAt: t0, outcome: .failed, error: "no stock"), retryAt: at(60)))
            #expect(try await inbox.complete(id: third, owner: "w", now: at(1)))
            let rows = try await inbox.database.read { db in
                try db.query("SELECT \(EventRows.columns) FROM inbox_events ORDER BY seq")
            }
            #expect(rows.count == 3)
            for row in rows {
                #expect(row.columns == EventRows.columnNames)
                let reversed = SQLiteRow(columns: row.columns.reversed(), values: row.values.reversed())
                let byPosition = try EventRows.event(row)
                let byName = try EventRows.event(reversed)
                #expect(byPosition.seq == byName.seq)
                #expect(byPosition.event == byName.event)
            }
            #expect(try rows.map { try EventRows.event($0).event.id } == [first, second, third])
            #expect(try EventRows.event(rows[1]).event.lastError == "no stock")
            #expect(try EventRows.event(rows[1]).event.rawBody == bytes(3))
        }
    }
}
