import Locking

/// Counters of a `GroupCommitWriter` since it opened.
public struct WriterStatistics: Sendable, Hashable {
    /// Write requests run, whether they were acknowledged or failed.
    public var writes = 0
    /// Write requests that ended in an error (their own, or their batch's).
    public var failedWrites = 0
    /// Batches run: each is one transaction.
    public var batches = 0
    /// Batches whose COMMIT succeeded: with `synchronous = FULL`, one fsync each.
    public var commits = 0
    /// Batches run a second time, each request in a savepoint of its own,
    /// because one of their requests failed.
    public var isolatedBatches = 0
    /// The most requests one batch held.
    public var largestBatch = 0

    public init() {}
}

/// The single writer of an SQLite database: runs write closures on its own
/// thread and commits everything queued together, so concurrent writers
/// share one fsync instead of waiting for one each (group commit).
///
/// The thread takes every pending request (up to `maxBatch`) and runs them
/// in one `BEGIN IMMEDIATE … COMMIT`. Should one throw, the transaction is
/// rolled back and the batch run again with each request inside its own
/// SAVEPOINT: the failing request is rolled back alone and gets its error,
/// the others still commit. (Savepoints for every batch cost the writer a
/// copy of each page a request changes, and two statements a request; a
/// request rarely fails.) Callers resume only after COMMIT has returned, so a value
/// returned by `write` is on disk (with `synchronous = FULL`, durable across
/// a power loss). If BEGIN or COMMIT fails, every request of the batch gets
/// the error: nothing is acknowledged that was not stored.
///
/// ```swift
/// let writer = try await GroupCommitWriter(path: "data/inbox.sqlite", migrator: migrator)
/// let isNew = try await writer.write { db in
///     try db.execute("INSERT OR IGNORE INTO inbox (key, body) VALUES (?, ?)", .text(key), .blob(body)) == 1
/// }
/// ```
///
/// A write closure runs inside the batch's transaction: it must not BEGIN,
/// COMMIT or ROLLBACK itself (nested savepoints are fine), and should be
/// short, since the whole batch waits for it. It may run twice (when
/// another request of its batch fails, after a rollback): it must change
/// nothing outside the database. Cancelling the awaiting task does not
/// withdraw a queued write: it may already be committed.
public final class GroupCommitWriter: Sendable {
    /// WAL pages after which a COMMIT checkpoints (`PRAGMA wal_autocheckpoint`).
    static let autocheckpointPages = 4000

    /// Requests one batch takes at most unless told otherwise.
    public static let defaultMaxBatch = 512

    public let path: String
    /// The most requests one transaction takes; 1 turns group commit off
    /// (one transaction, so one fsync, per write).
    public let maxBatch: Int
    private let thread: ConnectionThreads
    private let counters: StatisticsCounters

    /// Opens (creating if needed) the database at `path` on the writer's own
    /// thread, applies `migrator`'s missing migrations, and starts taking writes.
    public init(path: String, configuration: SQLiteConfiguration = SQLiteConfiguration(),
                maxBatch: Int = GroupCommitWriter.defaultMaxBatch, migrator: SchemaMigrator? = nil) async throws {
        precondition(maxBatch >= 1, "maxBatch must be at least 1")
        let counters = StatisticsCounters()
        self.path = path
        self.maxBatch = maxBatch
        self.counters = counters
        thread = try await ConnectionThreads(
            name: "SQLite writer", count: 1, batchLimit: maxBatch,
            open: {
                let connection = try SQLiteConnection(
                    path: path, configuration: configuration, gatheringWALFrames: configuration.gathersWALFrames)
                try connection.execute("PRAGMA cache_size=-\(max(1, configuration.writerCacheKiB))")
                // A statement that fires a trigger or changes several rows,
                // and a request in a savepoint (a batch run again), keep the
                // pages they change in a statement journal. On disk (the
                // default past 64 KiB) that journal was written and never
                // truncated: with a savepoint per request, about five 4 KiB
                // pwrites per WAL frame, half the writer's time in the kernel.
                try connection.execute("PRAGMA temp_store=MEMORY")
                // Checkpoints (run by COMMIT, on this thread) every 4,000 WAL
                // pages instead of SQLite's 1,000: pages written again and
                // again between two checkpoints are copied once, so 14-17% of
                // the WAL frames were copied instead of 21-24%, with fewer
                // fsyncs of the database file. The WAL grows to about 16 MiB.
                try connection.execute("PRAGMA wal_autocheckpoint=\(Self.autocheckpointPages)")
                try migrator?.migrate(connection)
                return connection
            },
            run: { connection, batch in Self.commit(batch, on: connection, counters: counters) })
    }

    /// Runs `body` with the write connection inside the next batch's
    /// transaction and returns its value once that transaction has
    /// committed. Throws `body`'s error (its changes rolled back), the
    /// batch's error when the batch could not commit, or
    /// `SQLiteError.closed` after `close()`.
    @discardableResult
    public func write<T: Sendable>(_ body: @escaping @Sendable (SQLiteConnection) throws -> T) async throws -> T {
        try await thread.submit(body)
    }

    /// Writes waiting for the next batch (for tests that need a full batch).
    var queuedWrites: Int { thread.queuedCount }

    /// False once `close()` has begun.
    var isAcceptingWrites: Bool { thread.isAccepting }

    /// The counters so far.
    public var statistics: WriterStatistics { counters.snapshot }

    /// Refuses new writes, commits the queued ones, closes the connection,
    /// and returns when the writer thread has exited.
    public func close() async { await thread.close() }

    // Each request's savepoint; the SQL is fixed so the statements stay cached.
    private static let savepoint = "SAVEPOINT group_commit_request"
    private static let rollbackToSavepoint = "ROLLBACK TO group_commit_request"
    private static let releaseSavepoint = "RELEASE group_commit_request"

    /// Runs one batch in one transaction, counts it, and resumes its callers.
    private static func commit(_ batch: [any ConnectionJob], on db: SQLiteConnection, counters: StatisticsCounters) {
        var failure: (any Error)?
        var isolated = false
        do throws(SQLiteError) {
            if try !runTogether(batch, on: db) {
                isolated = true
                try runIsolated(batch, on: db)
            }
        } catch {
            failure = error
            if db.isInTransaction { _ = try? db.execute("ROLLBACK") }
        }
        // Counted before anyone resumes, so a caller sees its own batch.
        var counts = WriterStatistics()
        counts.writes = batch.count
        counts.failedWrites = failure == nil ? batch.count { !$0.hasSucceeded } : batch.count
        counts.batches = 1
        counts.commits = failure == nil ? 1 : 0
        counts.isolatedBatches = isolated ? 1 : 0
        counts.largestBatch = batch.count
        counters.record(counts)
        // One wake-up per sleeping handler thread for the whole batch, not one per caller.
        DeferredWakes.during {
            for request in batch { request.complete(replacingSuccessWith: failure) }
        }
    }

    /// Runs every request of `batch` in one transaction with no savepoint and
    /// commits it; false, everything rolled back, as soon as one throws.
    private static func runTogether(_ batch: [any ConnectionJob], on db: SQLiteConnection) throws(SQLiteError) -> Bool {
        try db.execute("BEGIN IMMEDIATE")
        for request in batch {
            guard request.perform(on: db) == nil else {
                if db.isInTransaction { try db.execute("ROLLBACK") }
                return false
            }
        }
        try db.execute("COMMIT")
        return true
    }

    /// Runs `batch` again in one transaction, each request in a savepoint of
    /// its own, so that a failing one is rolled back alone, and commits it.
    private static func runIsolated(_ batch: [any ConnectionJob], on db: SQLiteConnection) throws(SQLiteError) {
        try db.execute("BEGIN IMMEDIATE")
        for request in batch {
            try db.execute(savepoint)
            if let error = request.perform(on: db) {
                guard db.isInTransaction else {
                    // SQLite ended the whole transaction (a full disk, an
                    // I/O error): the work of the requests before this
                    // one is gone too.
                    throw error as? SQLiteError
                        ?? .failed(code: .abort, message: "a write ended its batch's transaction: \(error)")
                }
                try db.execute(rollbackToSavepoint)
            }
            try db.execute(releaseSavepoint)
        }
        try db.execute("COMMIT")
    }
}

private final class StatisticsCounters: Sendable {
    private let totals = Locked(WriterStatistics())

    var snapshot: WriterStatistics { totals.withLock { $0 } }

    func record(_ batch: WriterStatistics) {
        totals.withLock { totals in
            totals.writes += batch.writes
            totals.failedWrites += batch.failedWrites
            totals.batches += batch.batches
            totals.commits += batch.commits
            totals.isolatedBatches += batch.isolatedBatches
            totals.largestBatch = max(totals.largestBatch, batch.largestBatch)
        }
    }
}
