/// One step of a schema: SQL that takes a database from the previous
/// version to `version`. Once shipped, a migration is never edited; a
/// change is a new migration.
public struct Migration: Sendable, Hashable {
    public let version: Int
    public let sql: String

    public init(version: Int, sql: String) {
        self.version = version
        self.sql = sql
    }
}

/// Why a schema could not be brought up to date.
public enum SchemaMigrationError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The database was migrated by a newer build of the program than this
    /// one; running older code against it could corrupt its data.
    case databaseIsNewer(path: String, version: Int, latestKnown: Int)
    /// Migration `version` failed and was rolled back; earlier ones stay applied.
    case migrationFailed(version: Int, SQLiteError)
    /// Reading or recording the schema version failed.
    case storage(SQLiteError)

    public var description: String {
        switch self {
        case .databaseIsNewer(let path, let version, let latestKnown):
            return "the database \(path) has schema version \(version), newer than this program knows "
                + "(\(latestKnown)): it was written by a newer release; run that release or a newer one"
        case .migrationFailed(let version, let error):
            return "schema migration \(version) failed and was rolled back: \(error)"
        case .storage(let error):
            return "cannot read or record the schema version: \(error)"
        }
    }
}

/// Brings a database's schema up to the latest of an ordered list of
/// migrations, recording each applied version in `schema_version`.
///
/// Each missing migration runs in its own `BEGIN IMMEDIATE` transaction,
/// which also re-reads the version, so two processes migrating at once
/// apply each migration once.
///
/// ```swift
/// let migrator = SchemaMigrator([
///     Migration(version: 1, sql: "CREATE TABLE inbox (key TEXT PRIMARY KEY, body BLOB NOT NULL)"),
///     Migration(version: 2, sql: "ALTER TABLE inbox ADD COLUMN received_at INTEGER"),
/// ])
/// try migrator.migrate(connection)
/// ```
public struct SchemaMigrator: Sendable {
    public let migrations: [Migration]

    /// `migrations` must have positive, strictly increasing versions.
    public init(_ migrations: [Migration]) {
        precondition(zip(migrations, migrations.dropFirst()).allSatisfy { $0.version < $1.version },
                     "migration versions must be strictly increasing")
        precondition(migrations.allSatisfy { $0.version > 0 }, "migration versions must be positive")
        self.migrations = migrations
    }

    /// The version the database has after `migrate`; 0 without migrations.
    public var latestVersion: Int { migrations.last?.version ?? 0 }

    /// Applies the migrations the database lacks, in order, and returns their
    /// versions (empty when it was up to date). Refuses a database whose
    /// version is newer than `latestVersion`.
    @discardableResult
    public func migrate(_ db: SQLiteConnection) throws(SchemaMigrationError) -> [Int] {
        let current = try inTransaction(db) { db throws(SchemaMigrationError) in
            do throws(SQLiteError) {
                try db.execute("""
                    CREATE TABLE IF NOT EXISTS schema_version (
                        version INTEGER PRIMARY KEY,
                        applied_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
                    )
                    """)
            } catch {
                throw .storage(error)
            }
            return try checkedVersion(of: db)
        }
        var applied: [Int] = []
        for migration in migrations where migration.version > current {
            let ran = try inTransaction(db) { db throws(SchemaMigrationError) in
                // Another process may have applied it since `current` was read.
                guard try checkedVersion(of: db) < migration.version else { return false }
                do throws(SQLiteError) {
                    try db.executeScript(migration.sql)
                } catch {
                    throw .migrationFailed(version: migration.version, error)
                }
                do throws(SQLiteError) {
                    try db.execute("INSERT INTO schema_version (version) VALUES (?)", .integer(Int64(migration.version)))
                } catch {
                    throw .storage(error)
                }
                return true
            }
            if ran { applied.append(migration.version) }
        }
        return applied
    }

    /// The schema version recorded in `db`: 0 for a database never migrated.
    public static func version(of db: SQLiteConnection) throws(SQLiteError) -> Int {
        let exists = try db.query("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'")
        guard !exists.isEmpty else { return 0 }
        return try db.query("SELECT MAX(version) FROM schema_version").first?[0].int ?? 0
    }

    private func checkedVersion(of db: SQLiteConnection) throws(SchemaMigrationError) -> Int {
        let version: Int
        do {
            version = try Self.version(of: db)
        } catch {
            throw .storage(error)
        }
        guard version <= latestVersion else {
            throw .databaseIsNewer(path: db.path, version: version, latestKnown: latestVersion)
        }
        return version
    }

    /// `body` inside `BEGIN IMMEDIATE … COMMIT`, rolled back when it throws.
    private func inTransaction<T>(
        _ db: SQLiteConnection, _ body: (SQLiteConnection) throws(SchemaMigrationError) -> T
    ) throws(SchemaMigrationError) -> T {
        do {
            try db.execute("BEGIN IMMEDIATE")
        } catch {
            throw .storage(error)
        }
        let value: T
        do {
            value = try body(db)
        } catch {
            if db.isInTransaction { _ = try? db.execute("ROLLBACK") }
            throw error
        }
        do {
            try db.execute("COMMIT")
        } catch {
            if db.isInTransaction { _ = try? db.execute("ROLLBACK") }
            throw .storage(error)
        }
        return value
    }
}
