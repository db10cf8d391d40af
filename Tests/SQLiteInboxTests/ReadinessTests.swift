import Foundation
import Inbox
import InboxTesting
import Logging
import Synchronization
import Testing
import TestSupport
import TrustPayWebhooksTesting
import Webhooks
@testable import SQLiteInbox
@testable import SQLiteStore

/// Readiness follows writes, not only reads: while the database refuses
/// writes (here SQLite's page limit, which fails with the same SQLITE_FULL
/// as a full disk) `checkAvailability()` throws that error and `/readyz`
/// answers `503`; once writes succeed again it passes.
@Suite(.timeLimit(.minutes(1)))
struct ReadinessTests {
    /// Records 8 kB events until one fails; returns that failure.
    private func fillUp(_ inbox: SQLiteInbox) async throws -> StoreError? {
        let pages = try await inbox.database.write { db in try db.query("PRAGMA page_count")[0][0].int ?? 0 }
        try await inbox.database.write { db in _ = try db.query("PRAGMA max_page_count = \(pages + 16)") }
        for index in 0..<50 {
            do {
                _ = try await inbox.record(newEvent("FULL-\(index)", body: bytes(8_000)), lease: .none, now: t0)
            } catch let error as StoreError {
                return error
            }
        }
        return nil
    }

    private func raiseTheLimit(_ inbox: SQLiteInbox) async throws {
        try await inbox.database.write { db in _ = try db.query("PRAGMA max_page_count = 1073741823") }
    }

    @Test func aFullDatabaseFailsReadinessWithSQLitesErrorUntilWritesSucceedAgain() async throws {
        try await withInbox { inbox, _ in
            try await inbox.checkAvailability()
            guard case .unavailable(let recordError)? = try await fillUp(inbox) else {
                Issue.record("the database never filled up"); return
            }
            #expect(recordError.contains("database or disk is full"), "\(recordError)")
            #expect(try await inbox.event(id: "no such id") == nil, "reads still work: a read-only check would pass")

            // Asked twice: the probe write fails as well, so it stays unready.
            for _ in 0..<2 {
                let error = await #expect(throws: StoreError.self) { try await inbox.checkAvailability() }
                guard case .unavailable(let reason)? = error else { Issue.record("\(String(describing: error))"); return }
                #expect(reason.contains("database or disk is full"), "\(reason)")
                #expect(reason.contains("cannot record the event"), "says which write failed: \(reason)")
            }
            // A write in place may succeed at the limit, but does not prove a new callback fits.
            _ = try? await inbox.claimDue(owner: "w", limit: 1, leaseDuration: .seconds(60), now: t0)
            #expect(inbox.writeHealth.hasFailed)
            await #expect(throws: StoreError.self) { try await inbox.checkAvailability() }

            try await raiseTheLimit(inbox)
            try await inbox.checkAvailability()  // the probe write commits and clears the failure
            #expect(!inbox.writeHealth.hasFailed)
            try await inbox.checkAvailability()
            #expect(try await inbox.record(newEvent("AFTER", body: bytes(8_000)), lease: .none, now: t0).isRecorded)
            // The probe left nothing behind.
            let versions = try await inbox.database.read { db in
                try db.query("SELECT version FROM schema_version ORDER BY version").compactMap { $0[0].int }
            }
            #expect(versions == InboxSchema.migrations.map(\.version))
        }
    }

    @Test func aSuccessfulWriteClearsTheFailureWithoutAProbe() async throws {
        try await withInbox { inbox, _ in
            guard case .unavailable? = try await fillUp(inbox) else { Issue.record("the database never filled up"); return }
            #expect(inbox.writeHealth.hasFailed)
            try await raiseTheLimit(inbox)
            #expect(try await inbox.record(newEvent("AFTER", body: bytes(8_000)), lease: .none, now: t0).isRecorded)
            #expect(!inbox.writeHealth.hasFailed)
            try await inbox.checkAvailability()
        }
    }

    @Test func readyzAnswers503AndLogsTheStoresErrorWhileWritesFail() async throws {
        let capture = LogCapture()
        try await withInbox { inbox, _ in
            var configuration = WebhookConfiguration(merchants: [TestMerchant(id: 8_820_250_900_010, secret: "s").merchant])
            configuration.workers = 1
            let server = WebhookServer(configuration: configuration, store: inbox, logger: capture.logger)
            try await withWebhookTestServer(server) { server in
                #expect(try await server.client.get("/readyz").status == 200)
                guard case .unavailable? = try await fillUp(inbox) else { Issue.record("the database never filled up"); return }
                #expect(try await server.client.get("/readyz").status == 503)
                #expect(try await server.client.get("/readyz").status == 503)
                let notReady = capture.lines.withLock { $0.filter { $0.contains("not ready") } }
                #expect(notReady.count == 1, "logged once, when readiness changed: \(notReady)")
                #expect(notReady.first?.contains("database or disk is full") == true, "\(notReady)")

                try await raiseTheLimit(inbox)
                #expect(try await server.client.get("/readyz").status == 200)
                #expect(capture.lines.withLock { $0.contains { $0.contains("ready again") } })
            }
        }
    }
}
