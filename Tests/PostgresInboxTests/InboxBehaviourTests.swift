import Foundation
import Inbox
import InboxTesting
import PostgresInbox
import Testing
import TestSupport
import TrustPayWebhooksTesting
import Webhooks

extension PostgreSQLTests {
    /// What the PostgreSQL inbox does beyond the store contract (which
    /// ContractTests runs): pruning past one batch, its own retention
    /// sweep, and refusing work once shut down.
    @Suite struct InboxBehaviourTests {
        @Test func prunesInBatchesUntilNothingIsLeft() async throws {
            try await withInbox { inbox in
                let count = 1500
                let lease = Lease(owner: "w", duration: .seconds(30))
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for worker in 0..<4 {
                        group.addTask {
                            for index in stride(from: worker, to: count, by: 4) {
                                let event = try await inbox.record(newEvent("B-\(index)"), lease: .always(lease), now: t0).event
                                _ = try await inbox.complete(id: event.id, owner: "w", now: t0)
                            }
                        }
                    }
                    try await group.waitForAll()
                }
                #expect(try await inbox.prune(completedBefore: t0.addingTimeInterval(1)) == count)
                #expect(try await inbox.list(EventFilter()).isEmpty)
            }
        }

        /// The webhook server's one retention sweep, on PostgreSQL.
        @Test func theRetentionSweepDeletesCompletedEventsAndKeepsDeadLetters() async throws {
            try await withInbox { inbox in
                let lease = Lease(owner: "w", duration: .seconds(30))
                let done = try await inbox.record(newEvent("DONE"), lease: .always(lease), now: t0).event
                let dead = try await inbox.record(newEvent("DEAD"), lease: .always(lease), now: t0).event
                #expect(try await inbox.complete(id: done.id, owner: "w", now: t0))
                #expect(try await inbox.deadLetter(id: dead.id, owner: "w", error: "x", now: t0))
                let sweep = RetentionSweep(store: inbox, keep: .seconds(1), logger: testLogger)
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask { await sweep.run() }
                    try await eventually("the sweep", timeout: .seconds(60)) {
                        try await inbox.event(id: done.id) == nil
                    }
                    group.cancelAll()
                }
                #expect(try await inbox.list(EventFilter()).map(\.orderNo) == ["DEAD"])
            }
        }

        /// Made to fail by dropping the shut-down check in `perform`: the
        /// check after shutdown then failed with the pool's own error, which
        /// does not say the inbox was shut down.
        @Test func answersAvailabilityChecksUntilShutDown() async throws {
            try await withInbox { inbox in
                await #expect(throws: Never.self) { try await inbox.checkAvailability() }
                await inbox.shutdown()
                let error = await #expect(throws: StoreError.self) { try await inbox.checkAvailability() }
                #expect("\(error.map { "\($0)" } ?? "")".contains("shut down"), "\(String(describing: error))")
            }
        }
    }
}
