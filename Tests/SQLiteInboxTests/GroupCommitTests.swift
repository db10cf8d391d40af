import Inbox
import InboxTesting
import Testing
import TestSupport
import TrustPayWebhooksTesting
import Webhooks
@testable import SQLiteInbox
@testable import SQLiteStore

/// Concurrent requests share transactions, and so fsyncs: proven with the
/// writer held, so that it holds on a disk of any speed.
@Suite struct GroupCommitTests {
    @Test func recordsQueuedTogetherCommitTogether() async throws {
        try await withInbox { inbox, _ in
            let (outcomes, before) = try await recordQueuedTogether(100, in: inbox)
            #expect(outcomes.count { $0.isRecorded } == 100)
            let statistics = inbox.writerStatistics
            #expect(statistics.writes - before.writes == 101)
            #expect(statistics.commits - before.commits == 2, "the gate's transaction, then one for all 100 records")
            #expect(statistics.largestBatch == 100)
        }
    }

    /// Keeping an attempt costs no write of its own: it rides in the write
    /// that records the outcome (and a conflict's copy in the one that
    /// counts it), so each is still one write and, alone, one commit.
    @Test func anAttemptAndACopyAreKeptInTheWritesThatAlreadyHappen() async throws {
        try await withInbox { inbox, _ in
            let event = try await inbox.record(newEvent(), lease: .always(Lease(owner: "w", duration: .seconds(60))), now: t0).event
            let attempt = HandlerAttempt(number: 1, startedAt: t0, endedAt: t0, outcome: .failed, error: "boom")
            var before = inbox.writerStatistics
            #expect(try await inbox.fail(id: event.id, owner: "w", attempt: attempt, retryAt: t0))
            var statistics = inbox.writerStatistics
            #expect(statistics.writes - before.writes == 1 && statistics.commits - before.commits == 1)
            before = statistics
            _ = try await inbox.record(newEvent(hash: "other"), lease: .none, now: t0)
            statistics = inbox.writerStatistics
            #expect(statistics.writes - before.writes == 1 && statistics.commits - before.commits == 1)
            let history = try await inbox.history(id: event.id)
            #expect(history.attempts == [attempt] && history.conflictingCopies.count == 1)
        }
    }

    @Test func withGroupingOffEveryRecordCommitsAlone() async throws {
        let directory = try TemporaryDirectory()
        let inbox = try await SQLiteInbox.open(path: directory.database(), maxBatch: 1)
        do {
            // Queued together behind the gate: grouped, they would share one commit.
            let (outcomes, before) = try await recordQueuedTogether(50, in: inbox)
            #expect(outcomes.count { $0.isRecorded } == 50)
            let statistics = inbox.writerStatistics
            #expect(statistics.writes - before.writes == 51)
            #expect(statistics.batches - before.batches == 51, "one transaction per write")
            #expect(statistics.commits - before.commits == 51, "one commit, so one fsync, per write")
            #expect(statistics.largestBatch == 1)
            #expect(try await inbox.list(EventFilter()).count == 50)
        } catch {
            await inbox.close()
            throw error
        }
        await inbox.close()
    }

    /// The contract checks that such records record the key once; here,
    /// that the losers are answered as duplicates, not as failed writes
    /// rolled back in their batch. Made to fail by inserting without the
    /// lookup and `ON CONFLICT DO NOTHING`, and reading the stored event
    /// after the write failed: answers as before, 99 failed writes.
    @Test func concurrentRecordsOfOneKeyAreNeverFailedWrites() async throws {
        try await withInbox { inbox, _ in
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<100 {
                    group.addTask { _ = try await inbox.record(newEvent("ONCE"), lease: .none, now: t0) }
                }
                try await group.waitForAll()
            }
            #expect(inbox.writerStatistics.failedWrites == 0, "a repeated key is never a failed write")
        }
    }
}

/// Records `count` new events while a transaction holds the writer, so all
/// of them are queued when it lets go. Returns their outcomes and the writer's
/// statistics from just before the gate opened (its own write included after).
private func recordQueuedTogether(
    _ count: Int, in inbox: SQLiteInbox
) async throws -> ([RecordOutcome], WriterStatistics) {
    let gate = WriterGate()
    let blocker = try await gate.close(inbox.database.writer)
    let records = Task {
        try await withThrowingTaskGroup(of: RecordOutcome.self) { group in
            for index in 0..<count {
                group.addTask { try await inbox.record(newEvent("O-\(index)"), lease: .none, now: t0) }
            }
            return try await group.reduce(into: [RecordOutcome]()) { $0.append($1) }
        }
    }
    try await eventually("\(count) records queued") { inbox.database.writer.queuedWrites == count }
    let before = inbox.writerStatistics
    gate.open()
    try await blocker.value
    return (try await records.value, before)
}
