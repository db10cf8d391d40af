import Testing
import Webhooks
@testable import SQLiteInbox
@testable import SQLiteStore

/// Concurrent requests share transactions, and so fsyncs.
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

    @Test func concurrentRecordsShareFsyncs() async throws {
        try await withInbox { inbox, _ in
            let before = inbox.writerStatistics
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 0..<200 {
                    group.addTask { _ = try await inbox.record(newEvent("O-\(index)"), lease: nil, now: t0) }
                }
                try await group.waitForAll()
            }
            let writes = inbox.writerStatistics.writes - before.writes
            let commits = inbox.writerStatistics.commits - before.commits
            #expect(writes == 200)
            #expect(commits * 4 < writes, "200 concurrent records took \(commits) commits")
            #expect(try await inbox.list(EventFilter()).count == 200)
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

    @Test func aHundredConcurrentRecordsOfOneKeyRecordItOnceAndFailNone() async throws {
        try await withInbox { inbox, _ in
            let outcomes = try await withThrowingTaskGroup(of: RecordOutcome.self) { group in
                for _ in 0..<100 {
                    group.addTask { try await inbox.record(newEvent("ONCE"), lease: nil, now: t0) }
                }
                return try await group.reduce(into: [RecordOutcome]()) { $0.append($1) }
            }
            #expect(outcomes.count { $0.isRecorded } == 1)
            #expect(outcomes.count { $0 == .duplicate(outcomes.first { $0.isRecorded }!.event) } == 99)
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
    let blocker = try await gate.close(inbox)
    let records = Task {
        try await withThrowingTaskGroup(of: RecordOutcome.self) { group in
            for index in 0..<count {
                group.addTask { try await inbox.record(newEvent("O-\(index)"), lease: nil, now: t0) }
            }
            return try await group.reduce(into: [RecordOutcome]()) { $0.append($1) }
        }
    }
    try await waitUntil { inbox.database.writer.queuedWrites == count }
    let before = inbox.writerStatistics
    gate.open()
    try await blocker.value
    return (try await records.value, before)
}
