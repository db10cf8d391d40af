import Foundation
import Inbox
import InboxTesting
import Testing
import TestSupport
import TrustPayWebhooksTesting
import Webhooks
@testable import SQLiteInbox

/// What was acknowledged is there after a restart, and a restart does not
/// make a known callback new.
@Suite struct DurabilityTests {
    @Test func everyEventSurvivesClosingAndReopening() async throws {
        let directory = try TemporaryDirectory()
        let path = directory.database()
        let holder = Lease(owner: "old-process/worker-0", duration: .seconds(30))
        let before: [InboxEvent]
        do {
            let inbox = try await SQLiteInbox.open(path: path)
            let done = try await inbox.record(newEvent("DONE", at: 0), lease: .always(holder), now: t0).event
            let dead = try await inbox.record(newEvent("DEAD", at: 1), lease: .always(holder), now: t0).event
            let waiting = try await inbox.record(newEvent("WAITING", at: 2), lease: .always(holder), now: t0).event
            _ = try await inbox.record(newEvent("LEASED", status: 7, rank: 4, at: 3), lease: .always(holder), now: t0)
            _ = try await inbox.record(newEvent("PENDING", body: bytes(100_000), at: 4), lease: .none, now: t0)
            _ = try await inbox.record(newEvent("PENDING", hash: "other", at: 5), lease: .none, now: t0)
            #expect(try await inbox.complete(id: done.id, owner: holder.owner, now: at(1)))
            #expect(try await inbox.deadLetter(id: dead.id, owner: holder.owner, error: "gave up", now: at(2)))
            #expect(try await inbox.fail(id: waiting.id, owner: holder.owner, error: "later", retryAt: at(60), now: at(3)))
            before = try await inbox.list(EventFilter())
            await inbox.close()
        }
        #expect(before.count == 5)

        let reopened = try await SQLiteInbox.open(path: path)
        #expect(try await reopened.list(EventFilter()) == before)
        for event in before {
            let again = NewInboxEvent(
                key: event.key, contentHash: event.contentHash, kind: event.kind, merchantID: event.merchantID,
                orderType: event.orderType, orderNo: event.orderNo, status: event.status, order: event.order,
                statusRank: nil, rawBody: event.rawBody, receivedAt: at(100))
            #expect(try await reopened.record(again, lease: .none, now: at(100)) == .duplicate(event))
        }
        let conflict = try await reopened.record(newEvent("PENDING", hash: "third"), lease: .none, now: at(100))
        #expect(conflict.event.conflicts == 2, "the conflict count goes on from where it was")
        let next = try await reopened.record(newEvent("LEASED", status: 5, rank: 1), lease: .none, now: at(100)).event
        #expect(next.previousStatus == 7 && next.isStale, "the order's last status survived")
        await reopened.close()
    }

    /// Two inboxes in this one process, each with its own writer connection,
    /// stand in for two processes sharing the file: their writers take turns
    /// at SQLite's write lock, and the key is still recorded once. Made to
    /// fail by opening both with no busy timeout: records failed with
    /// "database is locked" instead of waiting their turn.
    @Test func twoInboxesInOneProcessOnOneFileRecordAKeyOnce() async throws {
        let directory = try TemporaryDirectory()
        let first = try await SQLiteInbox.open(path: directory.database())
        let second = try await SQLiteInbox.open(path: directory.database())
        let outcomes = try await withThrowingTaskGroup(of: RecordOutcome.self) { group in
            for index in 0..<100 {
                let inbox = index.isMultiple(of: 2) ? first : second
                group.addTask { try await inbox.record(newEvent("SHARED"), lease: .none, now: t0) }
            }
            return try await group.reduce(into: [RecordOutcome]()) { $0.append($1) }
        }
        #expect(outcomes.count { $0.isRecorded } == 1)
        #expect(Set(outcomes.map(\.event.id)).count == 1)
        #expect(try await first.list(EventFilter()).count == 1)
        #expect(first.writerStatistics.failedWrites == 0 && second.writerStatistics.failedWrites == 0)
        await first.close()
        await second.close()
    }
}
