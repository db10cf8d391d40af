import Foundation
import Inbox
import InboxTesting
import Testing
import TestSupport
import TrustPayWebhooksTesting
import Webhooks

/// Retention is one service of the webhook server, whatever the store:
/// events completed longer ago than `keepCompleted` go, recent ones and
/// dead letters stay.
@Suite struct RetentionSweepTests {
    @Test func theServerDeletesEventsCompletedLongerAgoThanKeepCompleted() async throws {
        let store = MemoryInbox(capacity: 100)
        let now = Date()
        let old = now.addingTimeInterval(-8 * 24 * 3600)
        func completed(_ order: String, at date: Date) async throws -> String {
            let id = try await store.record(newEvent(order), lease: .none, now: date).event.id
            _ = try await store.claim(id: id, owner: "w", leaseDuration: .seconds(60), now: date)
            #expect(try await store.complete(id: id, owner: "w", now: date))
            return id
        }
        let stale = try await completed("OLD", at: old)
        let recent = try await completed("NEW", at: now.addingTimeInterval(-3600))
        let dead = try await store.record(newEvent("DEAD"), lease: .none, now: old).event.id
        _ = try await store.claim(id: dead, owner: "w", leaseDuration: .seconds(60), now: old)
        #expect(try await store.deadLetter(id: dead, owner: "w", error: "gave up", now: old))

        var configuration = WebhookConfiguration(merchants: [merchant.merchant])
        configuration.keepCompleted = .seconds(7 * 24 * 3600)
        let server = WebhookServer(configuration: configuration, store: store, logger: testLogger)
        try await withWebhookTestServer(server) { _ in
            try await eventually("the event completed 8 days ago is deleted") {
                try await store.event(id: stale) == nil
            }
        }
        #expect(try await store.event(id: recent) != nil, "completed an hour ago: kept")
        #expect(try await store.event(id: dead) != nil, "a dead letter stays until replayed or purged")
    }
}
