import Inbox
import InboxTesting
import Testing
import TestSupport
import TrustPayWebhooksTesting
import Webhooks
@testable import SQLiteInbox

/// Pruning and purging delete in small transactions, and take an order's
/// status row with its last event.
@Suite struct RetentionTests {
    @Test func pruneDeletesCompletedEventsInBatchesAndKeepsDeadLetters() async throws {
        try await withInbox(deletionBatch: 7) { inbox, _ in
            let holder = Lease(owner: "w", duration: .seconds(30))
            var dead: [String] = []
            for index in 0..<25 {
                let event = try await inbox.record(newEvent("O-\(index)", at: Double(index)), lease: .always(holder), now: t0).event
                if index < 20 {
                    #expect(try await inbox.complete(id: event.id, owner: "w", now: at(Double(index))))
                } else if index < 23 {
                    #expect(try await inbox.deadLetter(id: event.id, owner: "w", error: "gave up", now: t0))
                    dead.append(event.id)
                }
            }
            let before = inbox.writerStatistics.commits
            #expect(try await inbox.prune(completedBefore: at(15)) == 15)
            #expect(inbox.writerStatistics.commits - before == 3, "15 rows, 7 per transaction: 7, 7, 1")
            #expect(try await inbox.prune(completedBefore: at(1000)) == 5)
            #expect(try await inbox.list(.deadLetters).map(\.id) == dead)
            #expect(try await inbox.list(EventFilter()).map(\.orderNo) == (20..<25).map { "O-\($0)" })
        }
    }

    @Test func purgeWithALimitDeletesTheOldestAcrossBatches() async throws {
        try await withInbox(deletionBatch: 4) { inbox, _ in
            for index in 0..<12 { _ = try await inbox.record(newEvent("O-\(index)", at: Double(index)), lease: .none, now: t0) }
            #expect(try await inbox.purge(EventFilter(limit: 10)) == 10)
            #expect(try await inbox.list(EventFilter()).map(\.orderNo) == ["O-10", "O-11"])
            #expect(try await inbox.purge(EventFilter()) == 2)
        }
    }

    /// The contract checks that the order's status is forgotten; here, that
    /// its row goes too, so `order_last_status` does not grow with every
    /// order ever seen. Made to fail by keeping the row (its count never
    /// below 1) in the delete trigger: 2 rows instead of 1.
    @Test func anOrdersStatusRowIsDeletedWithItsLastEvent() async throws {
        try await withInbox { inbox, _ in
            _ = try await inbox.record(newEvent("GONE", status: 5, rank: 1), lease: .none, now: t0)
            _ = try await inbox.record(newEvent("GONE", status: 7, rank: 4), lease: .none, now: t0)
            _ = try await inbox.record(newEvent("KEPT", status: 5, rank: 1), lease: .none, now: t0)
            #expect(try await inbox.purge(EventFilter(orderNo: "GONE")) == 2)
            let orders = try await inbox.database.read { db in try db.query("SELECT events FROM order_last_status").compactMap { $0[0].int } }
            #expect(orders == [1], "only KEPT's row, counting its one event")
        }
    }
}
