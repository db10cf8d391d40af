import Foundation
import Inbox
import InboxTesting
import Testing
import TestSupport
import TrustPayWebhooksTesting
import Webhooks
@testable import SQLiteInbox
@testable import SQLiteStore

/// Whatever goes wrong with the database is `StoreError.unavailable` (the
/// pipeline's `503`), and nothing is acknowledged that was not stored.
@Suite struct FailureTests {
    @Test func openCreatesMissingDirectories() async throws {
        let directory = try TemporaryDirectory()
        let path = directory.path + "/data/inboxes/inbox.sqlite"
        let inbox = try await SQLiteInbox.open(path: path)
        #expect(try await inbox.record(newEvent(), lease: .none, now: t0).isRecorded)
        await inbox.close()
        #expect(FileManager.default.fileExists(atPath: path))
    }

    @Test func aPathUnderAFileIsUnavailableAndSaysWhy() async throws {
        let directory = try TemporaryDirectory()
        let file = directory.path + "/not-a-directory"
        #expect(FileManager.default.createFile(atPath: file, contents: Data("x".utf8)))
        let error = await #expect(throws: StoreError.self) { _ = try await SQLiteInbox.open(path: file + "/data/inbox.sqlite") }
        guard case .unavailable(let reason)? = error else { Issue.record("not unavailable: \(String(describing: error))"); return }
        #expect(reason.contains("cannot create the directory \(file)/data"), "\(reason)")
    }

    @Test func aDirectoryInPlaceOfTheFileIsUnavailable() async throws {
        let directory = try TemporaryDirectory()
        let error = await #expect(throws: StoreError.self) { _ = try await SQLiteInbox.open(path: directory.path) }
        guard case .unavailable(let reason)? = error else { Issue.record("not unavailable: \(String(describing: error))"); return }
        #expect(reason.contains("cannot open the SQLite database \(directory.path)"), "\(reason)")
    }

    @Test func anInMemoryDatabaseIsRefused() async throws {
        let error = await #expect(throws: StoreError.self) { _ = try await SQLiteInbox.open(path: ":memory:") }
        guard case .unavailable(let reason)? = error else { Issue.record("not unavailable: \(String(describing: error))"); return }
        #expect(reason.contains("needs a file"), "\(reason)")
    }

    @Test func aFullDiskIsUnavailableAndStoresNothingUnacknowledged() async throws {
        try await withInbox { inbox, _ in
            // SQLite's own page limit stands in for a full disk: the same SQLITE_FULL.
            let pages = try await inbox.database.write { db in try db.query("PRAGMA page_count")[0][0].int ?? 0 }
            try await inbox.database.write { db in _ = try db.query("PRAGMA max_page_count = \(pages + 16)") }
            var acknowledged: [String] = []
            var failure: StoreError?
            for index in 0..<50 where failure == nil {
                do {
                    acknowledged.append(try await inbox.record(newEvent("O-\(index)", body: bytes(8_000)), lease: .none, now: t0).event.orderNo)
                } catch let error as StoreError {
                    failure = error
                }
            }
            guard case .unavailable(let reason)? = failure else { Issue.record("never full: \(String(describing: failure))"); return }
            #expect(reason.contains("full"), "\(reason)")
            #expect(try await inbox.list(EventFilter()).map(\.orderNo) == acknowledged)
            #expect(try await inbox.event(id: "no such id") == nil, "reads still work")

            try await inbox.database.write { db in _ = try db.query("PRAGMA max_page_count = 1073741823") }
            let retried = try await inbox.record(newEvent("O-\(acknowledged.count)", body: bytes(8_000)), lease: .none, now: t0)
            #expect(retried.isRecorded, "the refused event was not stored, so TrustPay's retry records it")
        }
    }

    @Test func aLockHeldBeyondTheBusyTimeoutIsUnavailable() async throws {
        let directory = try TemporaryDirectory()
        let path = directory.database()
        let inbox = try await SQLiteInbox.open(path: path, busyTimeout: .milliseconds(100))
        #expect(try await inbox.record(newEvent("BEFORE"), lease: .none, now: t0).isRecorded)
        // Another connection (in this process, as another process would) holds the write lock.
        let other = try SQLiteConnection(path: path)
        try other.execute("BEGIN IMMEDIATE")
        let error = await #expect(throws: StoreError.self) {
            _ = try await inbox.record(newEvent("BLOCKED"), lease: .none, now: t0)
        }
        if case .unavailable(let reason)? = error {
            #expect(reason.contains("busy") || reason.contains("locked"), "\(reason)")
        } else {
            Issue.record("not unavailable: \(String(describing: error))")
        }
        try await inbox.checkAvailability()  // readers are not blocked by a writer (WAL)
        try other.execute("ROLLBACK")
        #expect(try await inbox.record(newEvent("BLOCKED"), lease: .none, now: t0).isRecorded)
        await inbox.close()
    }

    @Test func aClosedInboxIsUnavailable() async throws {
        let directory = try TemporaryDirectory()
        let inbox = try await SQLiteInbox.open(path: directory.database())
        await inbox.close()
        await #expect(throws: StoreError.self) { _ = try await inbox.record(newEvent(), lease: .none, now: t0) }
        await #expect(throws: StoreError.self) { try await inbox.checkAvailability() }
        await #expect(throws: StoreError.self) { _ = try await inbox.list(EventFilter()) }
        await #expect(throws: StoreError.self) { _ = try await inbox.claimDue(owner: "w", limit: 1, leaseDuration: .seconds(1), now: t0) }
    }
}
