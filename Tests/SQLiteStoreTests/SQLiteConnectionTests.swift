import CSQLite
import Testing
import TestSupport
@testable import SQLiteStore

@Suite struct SQLiteConnectionTests {
    @Test func valuesOfEveryStorageClassRoundTrip() throws {
        let directory = try TemporaryDirectory()
        let db = try SQLiteConnection(path: directory.database())
        try db.execute("CREATE TABLE t (i INTEGER, r REAL, s TEXT, b BLOB, n)")
        let values: [SQLiteValue] = [.integer(.min), .real(2.5), .text("zürich 🚀"), .blob([0, 1, 255]), .null]
        try db.execute("INSERT INTO t VALUES (?, ?, ?, ?, ?)", parameters: values)
        try db.execute("INSERT INTO t VALUES (?, ?, ?, ?, ?)", 9_007_199_254_740_993, 0.0, "", .blob([]), nil)
        let rows = try db.query("SELECT i, r, s, b, n FROM t ORDER BY rowid")
        #expect(rows.map(\.values) == [
            values,
            [.integer(9_007_199_254_740_993), .real(0), .text(""), .blob([]), .null],
        ])
        #expect(rows[0]["s"]?.string == "zürich 🚀")
        #expect(rows[0].columns == ["i", "r", "s", "b", "n"])
        #expect(rows[1][3].bytes == [], "an empty blob stays a blob, not NULL")
        #expect(rows[1][2].string == "", "an empty text stays text, not NULL")
    }

    /// SQLite's memory statistics are off for the process
    /// (`processWideSettings`): with them on, each of SQLite's allocations
    /// (it has no lookaside here) took a process-wide mutex, and the
    /// counters would show this blob.
    @Test func sqliteKeepsNoMemoryStatistics() throws {
        let directory = try TemporaryDirectory()
        let db = try SQLiteConnection(path: directory.database())
        try db.execute("CREATE TABLE t (b BLOB)")
        try db.execute("INSERT INTO t VALUES (?)", .blob(Array(repeating: 7, count: 100_000)))
        #expect(try db.query("SELECT length(b) FROM t").first?[0] == .integer(100_000))
        #expect(sqlite3_memory_used() == 0)
    }

    @Test func executeCountsChangedRowsAndStatementsAreReused() throws {
        let directory = try TemporaryDirectory()
        let db = try SQLiteConnection(path: directory.database())
        try db.execute("CREATE TABLE seen (key TEXT PRIMARY KEY)")
        for key in ["a", "b", "a"] {
            _ = try db.execute("INSERT OR IGNORE INTO seen VALUES (?)", .text(key))
        }
        #expect(try db.execute("INSERT OR IGNORE INTO seen VALUES (?)", "a") == 0)
        #expect(try db.execute("INSERT OR IGNORE INTO seen VALUES (?)", "c") == 1)
        #expect(try db.execute("DELETE FROM seen") == 3)
    }

    /// The statement cache hashes only the ends of the SQL text
    /// (``SQLText``): statements that differ only in the middle share a
    /// bucket, yet each runs its own prepared statement, and the cache's
    /// eviction keeps them apart too (a capacity of 2 over 3 of them).
    @Test func statementsAlikeAtBothEndsAreCachedApart() throws {
        let directory = try TemporaryDirectory()
        var configuration = SQLiteConfiguration()
        configuration.statementCacheCapacity = 2
        let db = try SQLiteConnection(path: directory.database(), configuration: configuration)
        let end = String(repeating: "x", count: SQLText.hashedEnd * 2)
        let statements = (1...3).map { "SELECT '\(end)' || ?, \($0), '\(end)'" }
        #expect(Set(statements.map { SQLText($0).hashValue }).count == 1, "same length, same ends")
        for _ in 0..<3 {
            for (index, sql) in statements.enumerated() {
                let row = try db.query(sql, .text("!"))[0]
                #expect(row[1].int == index + 1)
                #expect(row[0].string == end + "!")
            }
        }
    }

    /// Texts and blobs are bound where they are (SQLITE_STATIC), each inside
    /// the closure that lends its bytes, with the steps inside them all.
    /// Made to fail by stepping after those closures returned: small
    /// strings (15 bytes or fewer) lend a copy on the stack, which the next
    /// parameter's reuses, so the row would read another parameter's bytes
    /// (or, under AddressSanitizer, a stack use after scope).
    @Test func boundTextsAndBlobsAreReadWhileTheyAreLent() throws {
        let directory = try TemporaryDirectory()
        let db = try SQLiteConnection(path: directory.database())
        let long = String(repeating: "long text ", count: 40)
        let sql = "SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?1 || ?2 || ?3"
        for round in 0..<3 {
            let values: [SQLiteValue] = [
                .text("small \(round)"), .text("tiny"), .text(long + "\(round)"), .text(""), .integer(Int64(round)),
                .blob([UInt8](repeating: UInt8(round), count: 300)), .text("zürich \(round) 🚀"),
            ]
            let row = try db.query(sql, parameters: values)[0]
            #expect(Array(row.values.prefix(7)) == values)
            #expect(row[7].string == "small \(round)tiny\(long)\(round)")
        }
    }

    /// The cache's front (``SQLIdentity``) only holds statements the cache
    /// still has: with room for one, each of two statements used in turn
    /// is finalized and prepared again, never run from the front once
    /// finalized. Made to fail by leaving an evicted statement in the front
    /// (misuse, or a crash, at its next use).
    @Test func aStatementEvictedFromTheCacheLeavesItsFrontToo() throws {
        let directory = try TemporaryDirectory()
        var configuration = SQLiteConfiguration()
        configuration.statementCacheCapacity = 1
        let db = try SQLiteConnection(path: directory.database(), configuration: configuration)
        let first = "SELECT 'first statement of the two', ?"
        let second = "SELECT 'second statement of the two', ?"
        for round in 0..<4 {
            #expect(try db.query(first, .integer(Int64(round)))[0].values == [.text("first statement of the two"), .integer(Int64(round))])
            #expect(try db.query(second, .integer(Int64(round)))[0].values == [.text("second statement of the two"), .integer(Int64(round))])
        }
        // The same text in storage of its own: another identity, the same statement's answer.
        let copy = String(decoding: Array(first.utf8), as: UTF8.self)
        #expect(SQLIdentity(copy) != SQLIdentity(first) && SQLIdentity(first) == SQLIdentity(first))
        #expect(try db.query(copy, 7)[0].values == [.text("first statement of the two"), .integer(7)])
    }

    @Test func uniqueViolationIsAConstraintErrorWithItsExtendedCode() throws {
        let directory = try TemporaryDirectory()
        let db = try SQLiteConnection(path: directory.database())
        try db.execute("CREATE TABLE seen (key TEXT PRIMARY KEY, note TEXT NOT NULL)")
        try db.execute("INSERT INTO seen VALUES ('k', 'first')")
        let error = try #require(throws: SQLiteError.self) {
            try db.execute("INSERT INTO seen VALUES ('k', 'again')")
        }
        guard case .constraintViolation(let code, let message) = error else {
            Issue.record("expected a constraint violation, got \(error)")
            return
        }
        #expect(code == .constraintPrimaryKey || code == .constraintUnique)
        #expect(code.primary == .constraint)
        #expect(message.contains("seen.key"))
        #expect(throws: SQLiteError.constraintViolation(
            code: .constraintNotNull, message: "NOT NULL constraint failed: seen.note")) {
            try db.execute("INSERT INTO seen VALUES ('other', NULL)")
        }
    }

    @Test func foreignKeysAreEnforced() throws {
        let directory = try TemporaryDirectory()
        let db = try SQLiteConnection(path: directory.database())
        try db.executeScript("""
            CREATE TABLE parent (id INTEGER PRIMARY KEY);
            CREATE TABLE child (parent INTEGER NOT NULL REFERENCES parent(id));
            """)
        let error = try #require(throws: SQLiteError.self) { try db.execute("INSERT INTO child VALUES (1)") }
        #expect(error.code == .constraintForeignKey)
    }

    @Test func walAndTheConfiguredSynchronousModeAreInForce() throws {
        let directory = try TemporaryDirectory()
        let full = try SQLiteConnection(path: directory.database("full.sqlite"))
        #expect(try full.query("PRAGMA journal_mode")[0][0] == "wal")
        #expect(try full.query("PRAGMA synchronous")[0][0] == 2)
        #expect(try full.query("PRAGMA foreign_keys")[0][0] == 1)
        #expect(try full.query("PRAGMA busy_timeout")[0][0] == 5000)
        let normal = try SQLiteConnection(
            path: directory.database("normal.sqlite"),
            configuration: SQLiteConfiguration(synchronous: .normal, busyTimeout: .milliseconds(250)))
        #expect(try normal.query("PRAGMA synchronous")[0][0] == 1)
        #expect(try normal.query("PRAGMA busy_timeout")[0][0] == 250)
    }

    @Test func aMissingDirectoryIsNamedInTheOpenError() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path + "/absent/inbox.sqlite"
        let error = try #require(throws: SQLiteError.self) { try SQLiteConnection(path: path) }
        guard case .cannotOpen(let reported, let code, let message) = error else {
            Issue.record("expected cannotOpen, got \(error)")
            return
        }
        #expect(reported == path)
        #expect(code.primary == .cannotOpen)
        #expect(message.contains("\(directory.path)/absent does not exist"))
        #expect("\(error)".contains(path))
    }

    @Test func aReadOnlyConnectionNeedsAnExistingDatabaseAndRefusesChanges() throws {
        let directory = try TemporaryDirectory()
        #expect(throws: SQLiteError.self) {
            try SQLiteConnection(path: directory.database(), access: .readOnly)
        }
        let writer = try SQLiteConnection(path: directory.database())
        try writer.execute("CREATE TABLE t (x)")
        let reader = try SQLiteConnection(path: directory.database(), access: .readOnly)
        #expect(try reader.query("SELECT COUNT(*) FROM t")[0][0] == 0)
        let error = try #require(throws: SQLiteError.self) { try reader.execute("INSERT INTO t VALUES (1)") }
        #expect(error.code?.primary == .readOnly)
    }

    @Test func misuseIsReportedNotIgnored() throws {
        let directory = try TemporaryDirectory()
        let db = try SQLiteConnection(path: directory.database())
        try db.execute("CREATE TABLE t (x)")
        #expect(throws: SQLiteError.failed(code: .range, message:
            "the statement takes 1 parameters, 2 were given, in: INSERT INTO t VALUES (?)")) {
            try db.execute("INSERT INTO t VALUES (?)", 1, 2)
        }
        let twoStatements = try #require(throws: SQLiteError.self) {
            try db.execute("INSERT INTO t VALUES (1); INSERT INTO t VALUES (2)")
        }
        #expect(twoStatements.code == .misuse)
        #expect(try db.query("SELECT COUNT(*) FROM t")[0][0] == 0)
        let syntax = try #require(throws: SQLiteError.self) { try db.query("SELEC x FROM t") }
        #expect(syntax.code == .error)
        #expect("\(syntax)".contains("SELEC x FROM t"))
    }

    @Test func transactionsCommitOrRollBackAndSavepointsNest() throws {
        let directory = try TemporaryDirectory()
        let db = try SQLiteConnection(path: directory.database())
        try db.execute("CREATE TABLE t (x INTEGER)")
        struct Refused: Error {}
        #expect(throws: Refused.self) {
            try db.transaction { db in
                try db.execute("INSERT INTO t VALUES (1)")
                throw Refused()
            }
        }
        #expect(!db.isInTransaction)
        try db.transaction(.deferred) { db in
            try db.execute("INSERT INTO t VALUES (2)")
            try? db.savepoint("inner") { db in
                try db.execute("INSERT INTO t VALUES (3)")
                throw Refused()
            }
            try db.savepoint { db in try db.execute("INSERT INTO t VALUES (4)") }
        }
        #expect(try integers(db, "SELECT x FROM t ORDER BY x") == [2, 4])
    }
}
