import Testing
import TestSupport
@testable import SQLiteStore

@Suite struct SchemaMigratorTests {
    let v1 = Migration(version: 1, sql: "CREATE TABLE inbox (key TEXT PRIMARY KEY)")
    let v2 = Migration(version: 2, sql: """
        ALTER TABLE inbox ADD COLUMN body BLOB;
        CREATE INDEX inbox_body ON inbox (body);
        """)

    @Test func aFreshDatabaseGetsEveryMigrationInOrder() throws {
        let directory = try TemporaryDirectory()
        let db = try SQLiteConnection(path: directory.database())
        #expect(try SchemaMigrator.version(of: db) == 0)
        #expect(try SchemaMigrator([v1, v2]).migrate(db) == [1, 2])
        #expect(try SchemaMigrator.version(of: db) == 2)
        #expect(try integers(db, "SELECT version FROM schema_version ORDER BY version") == [1, 2])
        try db.execute("INSERT INTO inbox (key, body) VALUES ('k', x'00')")
    }

    @Test func runningAgainAppliesNothingAndANewMigrationAppliesAlone() throws {
        let directory = try TemporaryDirectory()
        let db = try SQLiteConnection(path: directory.database())
        #expect(try SchemaMigrator([v1]).migrate(db) == [1])
        try db.execute("INSERT INTO inbox (key) VALUES ('kept')")
        #expect(try SchemaMigrator([v1]).migrate(db) == [])
        #expect(try SchemaMigrator([v1, v2]).migrate(db) == [2])
        #expect(try SchemaMigrator([v1, v2]).migrate(db) == [])
        #expect(try db.query("SELECT key FROM inbox")[0][0] == "kept")
    }

    @Test func aDatabaseFromANewerReleaseIsRefusedUntouched() throws {
        let directory = try TemporaryDirectory()
        let db = try SQLiteConnection(path: directory.database())
        try SchemaMigrator([v1, v2]).migrate(db)
        #expect(throws: SchemaMigrationError.databaseIsNewer(path: directory.database(), version: 2, latestKnown: 1)) {
            try SchemaMigrator([v1]).migrate(db)
        }
        #expect(throws: SchemaMigrationError.self) { try SchemaMigrator([]).migrate(db) }
        #expect(try SchemaMigrator.version(of: db) == 2)
        #expect(!db.isInTransaction)
        let message = "\(SchemaMigrationError.databaseIsNewer(path: "inbox.sqlite", version: 2, latestKnown: 1))"
        #expect(message.contains("inbox.sqlite has schema version 2, newer than this program knows (1)"))
    }

    @Test func aFailingMigrationIsRolledBackAndEarlierOnesStay() throws {
        let directory = try TemporaryDirectory()
        let db = try SQLiteConnection(path: directory.database())
        let broken = Migration(version: 2, sql: """
            CREATE TABLE half (x);
            INSERT INTO nowhere VALUES (1);
            """)
        let error = try #require(throws: SchemaMigrationError.self) { try SchemaMigrator([v1, broken]).migrate(db) }
        guard case .migrationFailed(2, let cause) = error else {
            Issue.record("expected migration 2 to fail, got \(error)")
            return
        }
        #expect("\(cause)".contains("no such table: nowhere"))
        #expect(try SchemaMigrator.version(of: db) == 1)
        #expect(try db.query("SELECT name FROM sqlite_master WHERE name = 'half'").isEmpty)
        #expect(try SchemaMigrator([v1, v2]).migrate(db) == [2])
    }
}
