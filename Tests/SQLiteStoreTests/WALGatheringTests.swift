import Testing
import TestSupport
@testable import SQLiteStore

/// The writer's VFS (`CSQLiteWALBuffer`): a transaction's WAL frames reach
/// the file in a few writes, and every commit is in the file before any
/// other connection can see it, whatever `synchronous` says.
@Suite struct WALGatheringTests {
    /// About 40 pages in one transaction: SQLite gives two writes per frame,
    /// the file gets one per 64 KiB (the pieces the default VFS takes).
    @Test func aTransactionsFramesReachTheFileInAFewWrites() throws {
        let directory = try TemporaryDirectory()
        let db = try SQLiteConnection(path: directory.database(), gatheringWALFrames: true)
        try db.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, body BLOB)")
        let before = try #require(db.walWrites, "the WAL is open through the gathering VFS")
        try db.transaction { db in
            for id in 1...40 { try db.execute("INSERT INTO t VALUES (?, ?)", .integer(Int64(id)), .blob(Self.body(id))) }
        }
        let after = try #require(db.walWrites)
        let frames = after.frames - before.frames
        let writes = after.fileWrites - before.fileWrites
        #expect(frames >= 40)
        #expect(writes <= frames * 4_120 / 65_536 + 2, "\(frames) frames written in \(writes) writes")
        #expect(try SQLiteConnection(path: directory.database()).walWrites == nil, "other connections write as SQLite does")
    }

    /// A reader on the default VFS sees each commit at once, with
    /// `synchronous` NORMAL too (no sync flushes the kept frames
    /// there: the commit frame does), across checkpoints, a transaction
    /// that spilled frames and was rolled back, and a reopening.
    @Test(arguments: [SQLiteConfiguration.Synchronous.full, .normal])
    func everyCommitIsInTheFileBeforeOthersSeeIt(synchronous: SQLiteConfiguration.Synchronous) throws {
        let directory = try TemporaryDirectory()
        let path = directory.database()
        let configuration = SQLiteConfiguration(synchronous: synchronous)
        var writer: SQLiteConnection? = try SQLiteConnection(
            path: path, configuration: configuration, gatheringWALFrames: true)
        try writer?.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, body BLOB)")
        try writer?.execute("PRAGMA cache_size=8")  // so that a large transaction spills frames before its commit
        let reader = try SQLiteConnection(path: path, access: .readOnly)
        func expectReaderSees(_ count: Int) throws {
            #expect(try integers(reader, "SELECT count(*) FROM t") == [Int64(count)])
            let last = try reader.query("SELECT body FROM t WHERE id = ?", .integer(Int64(count))).first?[0].bytes
            #expect(last == Self.body(count), "row \(count) as written")
        }
        var count = 0
        for round in 1...60 {
            let rows = round % 10 == 0 ? 30 : 1 + round % 3
            try writer?.transaction { writer in
                for _ in 0..<rows {
                    count += 1
                    try writer.execute("INSERT INTO t VALUES (?, ?)", .integer(Int64(count)), .blob(Self.body(count)))
                }
            }
            try expectReaderSees(count)
            if round % 20 == 0 { try writer?.execute("PRAGMA wal_checkpoint(TRUNCATE)") }
            if round == 35 {
                // Spilled (uncommitted) frames kept, then abandoned: the next
                // commit writes over them.
                #expect(throws: SQLiteError.self) {
                    try writer?.transaction { writer in
                        for id in 0..<60 {
                            try writer.execute("INSERT INTO t VALUES (?, ?)", .integer(Int64(100_000 + id)), .blob(Self.body(id)))
                        }
                        try writer.execute("INSERT INTO t VALUES (1, x'00')")  // a duplicate key: rolled back
                    }
                }
            }
        }
        writer = nil
        try expectReaderSees(count)
        let reopened = try SQLiteConnection(path: path, configuration: configuration, gatheringWALFrames: true)
        #expect(try integers(reopened, "SELECT count(*) FROM t") == [Int64(count)])
        #expect(try reopened.query("PRAGMA integrity_check").first?[0].string == "ok")
    }

    /// 3,000 bytes unique to `id`: a page or so of WAL per row.
    static func body(_ id: Int) -> [UInt8] {
        (0..<3_000).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ id) }
    }
}
