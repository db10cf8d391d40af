/// Read-only connections on their own threads, for reads that run while the
/// writer commits (WAL lets readers see the last committed state without
/// waiting for the writer).
///
/// Each read closure runs in its own read transaction, so all its queries
/// see one snapshot. Open it after the writer has created the database.
public final class SQLiteReaderPool: Sendable {
    public let path: String
    private let threads: ConnectionThreads

    /// Opens `connections` read-only connections to the existing database at
    /// `path`, each on its own thread.
    public init(path: String, configuration: SQLiteConfiguration = SQLiteConfiguration(),
                connections: Int = 2) async throws {
        precondition(connections >= 1, "a reader pool needs at least one connection")
        self.path = path
        threads = try await ConnectionThreads(
            name: "SQLite reader", count: connections, batchLimit: 1,
            open: { try SQLiteConnection(path: path, configuration: configuration, access: .readOnly) },
            run: { connection, jobs in
                for job in jobs { Self.read(job, on: connection) }
            })
    }

    /// Runs `body` with a read-only connection, in a read transaction, and
    /// returns its value. Throws `body`'s error, or `SQLiteError.closed`
    /// after `close()`.
    @discardableResult
    public func read<T: Sendable>(_ body: @escaping @Sendable (SQLiteConnection) throws -> T) async throws -> T {
        try await threads.submit(body)
    }

    /// Refuses new reads, finishes the queued ones, closes the connections.
    public func close() async { await threads.close() }

    private static func read(_ job: any ConnectionJob, on db: SQLiteConnection) {
        do throws(SQLiteError) {
            try db.execute("BEGIN DEFERRED")
        } catch {
            job.complete(replacingSuccessWith: error)
            return
        }
        _ = job.perform(on: db)
        // Nothing was written (the connection is query-only): ending the
        // transaction either way only releases the snapshot.
        _ = try? db.execute("ROLLBACK")
        job.complete(replacingSuccessWith: nil)
    }
}
