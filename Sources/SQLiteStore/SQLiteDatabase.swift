/// An SQLite database as a store uses it: one `GroupCommitWriter` for every
/// change and a `SQLiteReaderPool` for reads alongside it.
///
/// ```swift
/// let database = try await SQLiteDatabase(path: "data/inbox.sqlite", migrations: [
///     Migration(version: 1, sql: "CREATE TABLE inbox (key TEXT PRIMARY KEY, body BLOB NOT NULL)"),
/// ])
/// try await database.write { db in try db.execute("INSERT INTO inbox VALUES (?, ?)", .text(key), .blob(body)) }
/// let count = try await database.read { db in try db.query("SELECT COUNT(*) FROM inbox")[0][0].int ?? 0 }
/// await database.close()
/// ```
public final class SQLiteDatabase: Sendable {
    public let path: String
    public let writer: GroupCommitWriter
    public let readers: SQLiteReaderPool

    /// Opens the writer first (creating the file, switching it to WAL and
    /// applying `migrations`), then `readerConnections` readers.
    public init(path: String, configuration: SQLiteConfiguration = SQLiteConfiguration(),
                migrations: [Migration] = [], maxBatch: Int = GroupCommitWriter.defaultMaxBatch,
                readerConnections: Int = 2) async throws {
        self.path = path
        let writer = try await GroupCommitWriter(path: path, configuration: configuration, maxBatch: maxBatch,
                                                 migrator: SchemaMigrator(migrations))
        do {
            readers = try await SQLiteReaderPool(path: path, configuration: configuration,
                                                 connections: readerConnections)
        } catch {
            await writer.close()
            throw error
        }
        self.writer = writer
    }

    /// `writer.write(body)`: runs in the next group commit, returns once committed.
    @discardableResult
    public func write<T: Sendable>(_ body: @escaping @Sendable (SQLiteConnection) throws -> T) async throws -> T {
        try await writer.write(body)
    }

    /// `readers.read(body)`: runs on a read-only connection in one snapshot.
    @discardableResult
    public func read<T: Sendable>(_ body: @escaping @Sendable (SQLiteConnection) throws -> T) async throws -> T {
        try await readers.read(body)
    }

    /// Commits the queued writes, finishes the queued reads, closes every connection.
    public func close() async {
        await writer.close()
        await readers.close()
    }
}
