import Testing
import TestSupport
import TrustPayWebhooksTesting
@testable import SQLiteStore

@Suite struct GroupCommitWriterTests {
    /// The writer's page cache is the configured one (64 MiB unless told
    /// otherwise), not SQLite's 2 MiB: the indexes a callback inserts into
    /// stay in memory instead of being read back from the file.
    @Test func theWritersPageCacheIsTheConfiguredOne() async throws {
        let directory = try TemporaryDirectory()
        let writer = try await GroupCommitWriter(path: directory.database())
        #expect(try await writer.write { db in try db.query("PRAGMA cache_size")[0][0].int64 } == -65_536)
        await writer.close()
        let small = try await GroupCommitWriter(
            path: directory.database(), configuration: SQLiteConfiguration(writerCacheKiB: 4096))
        #expect(try await small.write { db in try db.query("PRAGMA cache_size")[0][0].int64 } == -4096)
        await small.close()
    }

    /// Every request runs in a SAVEPOINT whose statement journal, kept in a
    /// temporary file, cost the writer five 4 KiB pwrites per WAL frame.
    @Test func theWritersStatementJournalsStayInMemory() async throws {
        let directory = try TemporaryDirectory()
        let writer = try await GroupCommitWriter(path: directory.database())
        #expect(try await writer.write { db in try db.query("PRAGMA temp_store")[0][0].int64 } == 2)
        await writer.close()
    }

    /// The writer checkpoints every 4,000 WAL pages, not SQLite's 1,000:
    /// pages rewritten between checkpoints are copied to the database once.
    @Test func theWriterCheckpointsEvery4000WALPages() async throws {
        let directory = try TemporaryDirectory()
        let writer = try await GroupCommitWriter(path: directory.database())
        #expect(try await writer.write { db in try db.query("PRAGMA wal_autocheckpoint")[0][0].int64 } == 4000)
        await writer.close()
    }

    @Test func aFailingRequestRollsBackAloneAndTheRestOfItsBatchCommits() async throws {
        let directory = try TemporaryDirectory()
        let writer = try await GroupCommitWriter(path: directory.database(), migrator: SchemaMigrator([itemsTable]))
        try await writer.write { db in try db.execute("INSERT INTO items (name) VALUES ('taken')") }
        let batch = try await inOneBatch(writer, count: 5) { index in
            { @Sendable db in
                try db.execute("INSERT INTO items (name) VALUES (?)", .text("item \(index)"))
                // The failing request writes a row of its own before its second insert fails.
                return try db.execute("INSERT INTO items (name) VALUES (?)", index == 2 ? "taken" : .text("extra \(index)"))
            }
        }
        for (index, outcome) in batch.enumerated() {
            if index == 2 {
                #expect(throws: SQLiteError.self) { try outcome.get() }
                #expect((try? outcome.get()) == nil)
            } else {
                #expect(try outcome.get() == 1)
            }
        }
        if case .failure(let error as SQLiteError) = batch[2] { #expect(error.code == .constraintUnique) }
        let stored = try await writer.write { db in try db.query("SELECT name FROM items ORDER BY id").compactMap { $0[0].string } }
        #expect(stored == ["taken", "item 0", "extra 0", "item 1", "extra 1", "item 3", "extra 3", "item 4", "extra 4"])
        let statistics = writer.statistics
        #expect(statistics.largestBatch == 5)
        #expect(statistics.failedWrites == 1)
        #expect(statistics.isolatedBatches == 1)
        await writer.close()
    }

    /// A batch whose requests all succeed runs once, in one transaction
    /// with no savepoint (a savepoint per request cost the writer a copy of
    /// every page the request changed, and two statements); one with a
    /// failing request is rolled back and runs again, each request in a
    /// savepoint of its own, so its other requests run twice. Written with
    /// the change: with a savepoint per request in every batch, the failing
    /// batch ran each request once (4 runs, not 6).
    @Test func aBatchRunsOnceWithoutSavepointsUnlessOneOfItsRequestsFails() async throws {
        let directory = try TemporaryDirectory()
        let writer = try await GroupCommitWriter(path: directory.database(), migrator: SchemaMigrator([itemsTable]))
        let runs = Counter()
        let batch = try await inOneBatch(writer, count: 4) { index in
            { @Sendable db in
                runs.increment()
                return try db.execute("INSERT INTO items (name) VALUES (?)", .text("item \(index)"))
            }
        }
        #expect(batch.allSatisfy { (try? $0.get()) == 1 })
        #expect(runs.count == 4)
        #expect(writer.statistics.isolatedBatches == 0)

        let failingRuns = Counter()
        let failing = try await inOneBatch(writer, count: 4) { index in
            { @Sendable db in
                failingRuns.increment()
                return try db.execute("INSERT INTO items (name) VALUES (?)", .text(index == 1 ? "item 0" : "again \(index)"))
            }
        }
        #expect((try? failing[1].get()) == nil)
        #expect(failing.enumerated().allSatisfy { $0.offset == 1 || (try? $0.element.get()) == 1 })
        #expect(failingRuns.count == 6, "the first request twice, the failing one twice, the last two once")
        #expect(writer.statistics.isolatedBatches == 1)
        let stored = try await writer.write { db in try db.query("SELECT name FROM items ORDER BY id").compactMap { $0[0].string } }
        #expect(stored == ["item 0", "item 1", "item 2", "item 3", "again 0", "again 2", "again 3"])
        await writer.close()
    }

    @Test func aFailedCommitFailsEveryRequestOfTheBatchAndStoresNone() async throws {
        let directory = try TemporaryDirectory()
        // A deferred foreign key is checked at COMMIT, so a request that
        // breaks it passes its own savepoint and makes the COMMIT fail.
        let schema = Migration(version: 1, sql: """
            CREATE TABLE parent (id INTEGER PRIMARY KEY);
            CREATE TABLE child (id INTEGER PRIMARY KEY,
                                parent INTEGER REFERENCES parent(id) DEFERRABLE INITIALLY DEFERRED);
            """)
        let writer = try await GroupCommitWriter(path: directory.database(), migrator: SchemaMigrator([schema]))
        let batch = try await inOneBatch(writer, count: 4) { index in
            { @Sendable db in try db.execute("INSERT INTO child VALUES (?, ?)", .integer(Int64(index)), index == 1 ? 99 : nil) }
        }
        for outcome in batch {
            #expect(throws: SQLiteError.self) { try outcome.get() }
            if case .failure(let error as SQLiteError) = outcome { #expect(error.code == .constraintForeignKey) }
        }
        #expect(try await writer.write { db in try db.query("SELECT COUNT(*) FROM child")[0][0] } == 0)
        #expect(writer.statistics.failedWrites == 4)
        #expect(try await writer.write { db in try db.execute("INSERT INTO child VALUES (10, NULL)") } == 1,
                "the writer goes on after a failed batch")
        await writer.close()
    }

    @Test func aRequestThatEndsTheTransactionFailsItsWholeBatch() async throws {
        let directory = try TemporaryDirectory()
        let writer = try await GroupCommitWriter(path: directory.database(), migrator: SchemaMigrator([itemsTable]))
        struct Gave: Error {}
        let batch = try await inOneBatch(writer, count: 3) { index in
            { @Sendable db in
                try db.execute("INSERT INTO items (name) VALUES (?)", .text("item \(index)"))
                if index == 1 {
                    // What SQLite does itself on a full disk or an I/O error.
                    try db.execute("ROLLBACK")
                    throw Gave()
                }
                return 1
            }
        }
        #expect(batch.allSatisfy { (try? $0.get()) == nil })
        #expect(try await writer.write { db in try db.query("SELECT COUNT(*) FROM items")[0][0] } == 0)
        await writer.close()
    }

    /// No ratio of commits to writes: how many requests queue up depends on
    /// the disk's speed (on tmpfs, few do). Made to fail by ignoring
    /// `maxBatch` (`batchLimit: 512` in the writer): with `maxBatch` 1, a
    /// batch of 46 and 18 commits for 400 writes.
    @Test(arguments: [GroupCommitWriter.defaultMaxBatch, 1])
    func concurrentWritersAreAllStoredEachOnceInABatchOfAtMostMaxBatch(maxBatch: Int) async throws {
        let directory = try TemporaryDirectory()
        let (tasks, perTask) = maxBatch == 1 ? (50, 8) : (200, 10)
        let writer = try await GroupCommitWriter(path: directory.database(), maxBatch: maxBatch,
                                                 migrator: SchemaMigrator([itemsTable]))
        try await withThrowingTaskGroup(of: Void.self) { group in
            for task in 0..<tasks {
                group.addTask {
                    for index in 0..<perTask {
                        let id = Int64(task * perTask + index)
                        let changed = try await writer.write { db in
                            try db.execute("INSERT INTO items (id, name, body) VALUES (?, ?, ?)",
                                           .integer(id), .text("item \(id)"), .blob([UInt8](repeating: 7, count: 100)))
                        }
                        #expect(changed == 1)
                    }
                }
            }
            try await group.waitForAll()
        }
        let writes = tasks * perTask
        let statistics = writer.statistics
        #expect(statistics.writes == writes)
        #expect(statistics.failedWrites == 0)
        #expect(statistics.batches == statistics.commits)
        #expect(statistics.largestBatch <= maxBatch)
        if maxBatch == 1 { #expect(statistics.commits == writes) }
        await writer.close()

        let reopened = try SQLiteConnection(path: directory.database())
        #expect(try integers(reopened, "SELECT id FROM items ORDER BY id") == (0..<Int64(writes)).map { $0 })
    }

    /// Grouping, on any disk: writes queued while the writer is busy share
    /// one transaction, so one commit (one fsync); past `maxBatch` they
    /// take as many as needed. Made to fail by taking one request per batch
    /// (`batchLimit: 1` in the writer): 21 batches and 21 commits; and by
    /// ignoring `maxBatch` (`batchLimit: 512`): all 20 in one batch of 8 at most.
    @Test(arguments: zip([512, 8], [1, 3]))
    func writesQueuedBehindABusyWriterShareOneCommitPerMaxBatch(maxBatch: Int, batches: Int) async throws {
        let directory = try TemporaryDirectory()
        let writer = try await GroupCommitWriter(path: directory.database(), maxBatch: maxBatch,
                                                 migrator: SchemaMigrator([itemsTable]))
        let gate = WriterGate()
        let blocker = try await gate.close(writer)
        let queued = (0..<20).map { index in
            Task { try await writer.write { db in try db.execute("INSERT INTO items (name) VALUES (?)", .text("q\(index)")) } }
        }
        try await eventually("20 writes queued") { writer.queuedWrites == 20 }
        let before = writer.statistics
        gate.open()
        try await blocker.value
        for task in queued { #expect(try await task.value == 1) }
        let after = writer.statistics
        #expect(after.writes - before.writes == 21, "the gate's write and the 20 queued")
        #expect(after.batches - before.batches == 1 + batches)
        #expect(after.commits - before.commits == 1 + batches, "one commit for the gate, then one per batch")
        #expect(after.largestBatch == min(20, maxBatch))
        await writer.close()
    }

    @Test func closingCommitsQueuedWritesThenRefusesNewOnes() async throws {
        let directory = try TemporaryDirectory()
        let writer = try await GroupCommitWriter(path: directory.database(), migrator: SchemaMigrator([itemsTable]))
        let gate = WriterGate()
        let blocker = try await gate.close(writer)
        let queued = (0..<10).map { index in
            Task { try await writer.write { db in try db.execute("INSERT INTO items (name) VALUES (?)", .text("q\(index)")) } }
        }
        try await eventually("10 writes queued") { writer.queuedWrites == 10 }
        let closing = Task { await writer.close() }
        try await eventually("the writer to refuse writes") { !writer.isAcceptingWrites }
        await #expect(throws: SQLiteError.closed) { try await writer.write { _ in 0 } }
        #expect(writer.queuedWrites == 10)
        gate.open()
        await closing.value
        try await blocker.value
        for task in queued { #expect(try await task.value == 1) }

        let reopened = try SQLiteConnection(path: directory.database())
        #expect(try reopened.query("SELECT COUNT(*) FROM items")[0][0] == 10)
    }

    @Test func openingReportsTheDatabaseItCannotUse() async throws {
        let directory = try TemporaryDirectory()
        let missing = directory.path + "/absent/db.sqlite"
        await #expect(throws: SQLiteError.self) { try await GroupCommitWriter(path: missing) }
        let path = directory.database()
        let newer = try await GroupCommitWriter(
            path: path, migrator: SchemaMigrator([itemsTable, Migration(version: 2, sql: "CREATE TABLE more (x)")]))
        await newer.close()
        await #expect(throws: SchemaMigrationError.databaseIsNewer(path: path, version: 2, latestKnown: 1)) {
            try await GroupCommitWriter(path: path, migrator: SchemaMigrator([itemsTable]))
        }
    }

    @Test func readersSeeEachCommittedWriteWhileTheWriterWorks() async throws {
        let directory = try TemporaryDirectory()
        let database = try await SQLiteDatabase(path: directory.database(), migrations: [itemsTable])
        for index in 1...20 {
            try await database.write { db in try db.execute("INSERT INTO items (name) VALUES (?)", .text("n\(index)")) }
            #expect(try await database.read { db in try db.query("SELECT COUNT(*) FROM items")[0][0].int } == index)
        }
        let refused = try #require(await #expect(throws: SQLiteError.self) {
            try await database.read { db in try db.execute("DELETE FROM items") }
        })
        #expect(refused.code?.primary == .readOnly)
        // A long write does not hold up reads: they see the last commit.
        let gate = WriterGate()
        let slow = Task { try await database.write { db in
            try db.execute("DELETE FROM items")
            gate.hold()
        } }
        try await eventually("the slow write to hold the writer") { gate.isHolding }
        #expect(try await database.read { db in try db.query("SELECT COUNT(*) FROM items")[0][0].int } == 20)
        gate.open()
        try await slow.value
        #expect(try await database.read { db in try db.query("SELECT COUNT(*) FROM items")[0][0].int } == 0)
        await database.close()
        await #expect(throws: SQLiteError.closed) { try await database.read { _ in 0 } }
    }

    /// Runs `count` requests made by `request` in one batch: holds the writer
    /// thread until all of them are queued, then lets it take them together.
    private func inOneBatch<T: Sendable>(
        _ writer: GroupCommitWriter, count: Int,
        _ request: (Int) -> @Sendable (SQLiteConnection) throws -> T
    ) async throws -> [Result<T, any Error>] {
        let gate = WriterGate()
        let blocker = try await gate.close(writer)
        let before = writer.statistics.batches
        var tasks: [Task<T, any Error>] = []
        for index in 0..<count {
            let body = request(index)
            tasks.append(Task { try await writer.write(body) })
            // Queue them in order, so results line up with the indexes.
            try await eventually("write \(index) queued") { writer.queuedWrites == index + 1 }
        }
        gate.open()
        try await blocker.value
        var results: [Result<T, any Error>] = []
        for task in tasks { results.append(await task.result) }
        #expect(writer.statistics.batches == before + 2)
        return results
    }
}
