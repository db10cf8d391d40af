import Foundation
import Testing
import TestSupport
import TrustPayWebhooksTesting
import Webhooks
import InboxTesting
@testable import SQLiteInbox

/// One owner per SQLite inbox, and what owning it allows: releasing every
/// lease at start.
@Suite struct OwnershipTests {
    @Test func oneOwnerAtATimeAndTheLockFileIsNamed() async throws {
        let directory = try TemporaryDirectory()
        let path = directory.database()
        do {
            let owner = try SQLiteOwnership.acquire(databasePath: path)
            #expect(owner.lockPath == path + ".lock")
            #expect {
                _ = try SQLiteOwnership.acquire(databasePath: path)
            } throws: { error in
                "\(error)".contains("another server is already running on the SQLite database \(path)")
                    && "\(error)".contains(path + ".lock")
            }
            withExtendedLifetime(owner) {}
        }
        // Given up (the process ended; here, released), it can be taken again.
        // Not always at once in this process: a child that another test
        // spawns meanwhile shares the descriptor, and so the lock, from its
        // fork until its exec closes it (close-on-exec). CI saw that once.
        try await eventually("the released lock to be free") {
            (try? SQLiteOwnership.acquire(databasePath: path)) != nil
        }
    }

    @Test func releasingEveryLeaseMakesClaimedEventsClaimableAtOnce() async throws {
        try await withInbox { inbox, _ in
            for order in ["A", "B"] { _ = try await inbox.record(newEvent(order), lease: .none, now: t0) }
            let claimed = try await inbox.claimDue(owner: "dead/worker-0", limit: 10, leaseDuration: .seconds(60), now: t0)
            #expect(claimed.count == 2)
            let now = t0.addingTimeInterval(1)
            #expect(try await inbox.claimDue(owner: "new/worker-0", limit: 10, leaseDuration: .seconds(60), now: now).isEmpty)
            #expect(try await inbox.releaseAllLeases(now: now) == 2)
            let retaken = try await inbox.claimDue(owner: "new/worker-0", limit: 10, leaseDuration: .seconds(60), now: now)
            #expect(retaken.map(\.orderNo) == ["A", "B"])
            #expect(retaken.allSatisfy { $0.attempts == 2 }, "the lost attempt counts")
        }
    }
}
