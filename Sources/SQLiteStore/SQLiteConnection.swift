import CSQLite
import Durations
import Glibc

/// One SQLite connection: WAL journal, `foreign_keys` on, typed parameters
/// and rows, cached prepared statements, transactions.
///
/// Not thread-safe and not `Sendable`: a connection belongs to one thread
/// at a time. `GroupCommitWriter` and `SQLiteReaderPool` own theirs on
/// dedicated threads and lend them to closures. Closing happens when the
/// last reference goes.
///
/// ```swift
/// let db = try SQLiteConnection(path: "data/inbox.sqlite")
/// try db.execute("CREATE TABLE seen (key TEXT PRIMARY KEY)")
/// let inserted = try db.execute("INSERT OR IGNORE INTO seen VALUES (?)", .text(key))  // 0: a duplicate
/// let rows = try db.query("SELECT key FROM seen WHERE key > ?", "m")
/// ```
public final class SQLiteConnection {
    /// Whether a connection may change the database.
    public enum Access: Sendable {
        /// Creates the file if missing and switches it to WAL.
        case readWrite
        /// Opens an existing database and refuses changes (`PRAGMA query_only`).
        case readOnly
    }

    /// `BEGIN DEFERRED`, `BEGIN IMMEDIATE` or `BEGIN EXCLUSIVE`.
    public enum TransactionKind: String, Sendable {
        /// Takes locks at the first read or write.
        case deferred = "DEFERRED"
        /// Takes the write lock at once, so the transaction cannot fail with
        /// busy halfway through.
        case immediate = "IMMEDIATE"
        case exclusive = "EXCLUSIVE"
    }

    public let path: String
    let handle: OpaquePointer
    private var statements: StatementCache

    /// Opens (and with `.readWrite`, creates) the database at `path`. The
    /// directory must exist: creating it is the caller's job.
    public init(path: String, configuration: SQLiteConfiguration = SQLiteConfiguration(),
                access: Access = .readWrite) throws(SQLiteError) {
        var flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE
        if access == .readWrite { flags |= SQLITE_OPEN_CREATE }
        var opened: OpaquePointer?
        let rc = sqlite3_open_v2(path, &opened, flags, nil)
        guard rc == SQLITE_OK, let opened else {
            let message = opened.map { String(cString: sqlite3_errmsg($0)) } ?? String(cString: sqlite3_errstr(rc))
            sqlite3_close_v2(opened)
            throw .cannotOpen(path: path, code: SQLiteResultCode(rawValue: rc),
                              message: message + Self.directoryHint(for: path))
        }
        self.path = path
        handle = opened
        statements = StatementCache(capacity: configuration.statementCacheCapacity)
        sqlite3_extended_result_codes(handle, 1)
        sqlite3_busy_timeout(handle, Int32(clamping: configuration.busyTimeout.wholeMilliseconds))
        do throws(SQLiteError) {
            if access == .readWrite {
                // Rows come back; read them so a refusal (e.g. on a network
                // filesystem) is noticed rather than silently ignored.
                let mode = try query("PRAGMA journal_mode=WAL").first?[0].string?.lowercased()
                guard mode == "wal" || (mode == "memory" && path == ":memory:") else {
                    throw SQLiteError.cannotOpen(
                        path: path, code: .cannotOpen,
                        message: "the database refused WAL journaling (journal_mode is \(mode ?? "unknown"))")
                }
            } else {
                try execute("PRAGMA query_only=ON")
            }
            try execute("PRAGMA synchronous=\(configuration.synchronous.rawValue)")
            try execute("PRAGMA foreign_keys=ON")
        } catch {
            statements.removeAll()
            sqlite3_close_v2(handle)
            switch error {
            case .cannotOpen: throw error
            default: throw .cannotOpen(path: path, code: error.code ?? .cannotOpen, message: "\(error)")
            }
        }
    }

    deinit {
        statements.removeAll()
        sqlite3_close_v2(handle)
    }

    /// Runs one statement with `parameters` bound to its `?` placeholders, in
    /// order, and returns the number of rows it inserted, updated or deleted.
    @discardableResult
    public func execute(_ sql: String, _ parameters: SQLiteValue...) throws(SQLiteError) -> Int {
        try execute(sql, parameters: parameters)
    }

    @discardableResult
    public func execute(_ sql: String, parameters: [SQLiteValue]) throws(SQLiteError) -> Int {
        try run(sql, parameters) { _ in }
        return Int(sqlite3_changes64(handle))
    }

    /// Runs one statement with `parameters` bound and returns every row it produced.
    public func query(_ sql: String, _ parameters: SQLiteValue...) throws(SQLiteError) -> [SQLiteRow] {
        try query(sql, parameters: parameters)
    }

    public func query(_ sql: String, parameters: [SQLiteValue]) throws(SQLiteError) -> [SQLiteRow] {
        var rows: [SQLiteRow] = []
        var columns: [String]?
        try run(sql, parameters) { statement in
            let names = columns ?? Self.columnNames(of: statement)
            columns = names
            rows.append(SQLiteRow(columns: names, values: (0..<Int32(names.count)).map {
                Self.value(of: statement, at: $0)
            }))
        }
        return rows
    }

    /// Runs several `;`-separated statements without parameters, such as a
    /// migration. Not cached.
    public func executeScript(_ sql: String) throws(SQLiteError) {
        let rc = sqlite3_exec(handle, sql, nil, nil, nil)
        guard rc == SQLITE_OK else { throw .from(rc, on: handle) }
    }

    /// The rowid of the most recent successful INSERT on this connection.
    public var lastInsertRowID: Int64 { sqlite3_last_insert_rowid(handle) }

    /// True between BEGIN and COMMIT or ROLLBACK (also when SQLite itself
    /// has not yet ended a failed transaction).
    public var isInTransaction: Bool { sqlite3_get_autocommit(handle) == 0 }

    /// Runs `body` in a transaction: committed when it returns, rolled back
    /// when it (or COMMIT) throws.
    @discardableResult
    public func transaction<T>(_ kind: TransactionKind = .immediate,
                               _ body: (SQLiteConnection) throws -> T) throws -> T {
        try execute("BEGIN \(kind.rawValue)")
        do {
            let value = try body(self)
            try execute("COMMIT")
            return value
        } catch {
            if isInTransaction { _ = try? execute("ROLLBACK") }
            throw error
        }
    }

    /// Runs `body` inside `SAVEPOINT name`: released when it returns, rolled
    /// back to the savepoint (and released) when it throws. Nests inside a
    /// transaction or another savepoint.
    @discardableResult
    public func savepoint<T>(_ name: String = "savepoint", _ body: (SQLiteConnection) throws -> T) throws -> T {
        let quoted = "\"" + name.split(separator: "\"", omittingEmptySubsequences: false).joined(separator: "\"\"") + "\""
        try execute("SAVEPOINT \(quoted)")
        do {
            let value = try body(self)
            try execute("RELEASE \(quoted)")
            return value
        } catch {
            if isInTransaction {
                _ = try? execute("ROLLBACK TO \(quoted)")
                _ = try? execute("RELEASE \(quoted)")
            }
            throw error
        }
    }

    // MARK: - Statements

    /// Prepares (or reuses) `sql`, binds `parameters`, steps it to the end
    /// calling `row` for each result row, and resets it for the next use.
    private func run(_ sql: String, _ parameters: [SQLiteValue],
                     row: (OpaquePointer) -> Void) throws(SQLiteError) {
        let statement = try statements.statement(for: sql, on: handle)
        defer {
            sqlite3_reset(statement)
            sqlite3_clear_bindings(statement)
        }
        try bind(parameters, to: statement, sql: sql)
        while true {
            let rc = sqlite3_step(statement)
            if rc == SQLITE_ROW {
                row(statement)
            } else if rc == SQLITE_DONE {
                return
            } else {
                throw SQLiteError.from(rc, on: handle)
            }
        }
    }

    private func bind(_ parameters: [SQLiteValue], to statement: OpaquePointer, sql: String) throws(SQLiteError) {
        let expected = Int(sqlite3_bind_parameter_count(statement))
        guard expected == parameters.count else {
            throw .failed(code: .range, message: "the statement takes \(expected) parameters, "
                          + "\(parameters.count) were given, in: \(sql)")
        }
        for (offset, value) in parameters.enumerated() {
            let index = Int32(offset + 1)
            let rc: Int32
            switch value {
            case .null:
                rc = sqlite3_bind_null(statement, index)
            case .integer(let integer):
                rc = sqlite3_bind_int64(statement, index, integer)
            case .real(let real):
                rc = sqlite3_bind_double(statement, index, real)
            case .text(var text):
                // An empty buffer may have no address, which SQLite would bind as NULL.
                rc = text.withUTF8 { utf8 in
                    guard let base = utf8.baseAddress else { return csqlite_bind_text_copy(statement, index, "", 0) }
                    return csqlite_bind_text_copy(statement, index, UnsafeRawPointer(base).assumingMemoryBound(to: CChar.self),
                                                  Int32(utf8.count))
                }
            case .blob(let bytes):
                rc = bytes.withUnsafeBytes { raw in
                    raw.baseAddress.map { csqlite_bind_blob_copy(statement, index, $0, Int32(raw.count)) }
                        ?? sqlite3_bind_zeroblob(statement, index, 0)
                }
            }
            guard rc == SQLITE_OK else { throw SQLiteError.from(rc, on: handle, context: sql) }
        }
    }

    private static func columnNames(of statement: OpaquePointer) -> [String] {
        (0..<sqlite3_column_count(statement)).map { String(cString: sqlite3_column_name(statement, $0)) }
    }

    private static func value(of statement: OpaquePointer, at column: Int32) -> SQLiteValue {
        switch sqlite3_column_type(statement, column) {
        case SQLITE_INTEGER:
            return .integer(sqlite3_column_int64(statement, column))
        case SQLITE_FLOAT:
            return .real(sqlite3_column_double(statement, column))
        case SQLITE_TEXT:
            let text = sqlite3_column_text(statement, column)
            let count = Int(sqlite3_column_bytes(statement, column))
            return .text(text.map { String(decoding: UnsafeBufferPointer(start: $0, count: count), as: UTF8.self) } ?? "")
        case SQLITE_BLOB:
            let bytes = sqlite3_column_blob(statement, column)
            let count = Int(sqlite3_column_bytes(statement, column))
            return .blob(bytes.map { Array(UnsafeRawBufferPointer(start: $0, count: count)) } ?? [])
        default:
            return .null
        }
    }

    /// Says so when the directory a path names does not exist, the usual
    /// reason a database cannot be created.
    private static func directoryHint(for path: String) -> String {
        guard path != ":memory:", let slash = path.lastIndex(of: "/") else { return "" }
        let directory = slash == path.startIndex ? "/" : String(path[..<slash])
        var info = stat()
        return stat(directory, &info) == 0 ? "" : " (the directory \(directory) does not exist)"
    }
}

/// Prepared statements by SQL text, finalizing the least recently used one
/// past `capacity`.
struct StatementCache {
    private var entries: [SQLText: (statement: OpaquePointer, lastUse: UInt64)] = [:]
    private var clock: UInt64 = 0
    private let capacity: Int

    init(capacity: Int) { self.capacity = max(1, capacity) }

    mutating func statement(for sql: String, on handle: OpaquePointer) throws(SQLiteError) -> OpaquePointer {
        clock += 1
        // One hash of the SQL per use: the writer's statements run to a
        // kilobyte or more, and a lookup then a store hashed them twice.
        if let index = entries.index(forKey: SQLText(sql)) {
            entries.values[index].lastUse = clock
            return entries.values[index].statement
        }
        var prepared: OpaquePointer?
        // The tail points into the C copy of `sql`, which lives only inside
        // withCString: read it there.
        let (rc, rest) = sql.withCString { text in
            var tail: UnsafePointer<CChar>?
            let rc = sqlite3_prepare_v3(handle, text, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &prepared, &tail)
            return (rc, tail.map { String(cString: $0) } ?? "")
        }
        guard rc == SQLITE_OK else { throw SQLiteError.from(rc, on: handle, context: sql) }
        guard let prepared else {
            throw .failed(code: .misuse, message: "no SQL statement in: \(sql)")
        }
        if rest.contains(where: { !$0.isWhitespace }) {
            sqlite3_finalize(prepared)
            throw .failed(code: .misuse, message: "more than one statement (use executeScript) in: \(sql)")
        }
        if entries.count >= capacity, let oldest = entries.min(by: { $0.value.lastUse < $1.value.lastUse }) {
            sqlite3_finalize(oldest.value.statement)
            entries[oldest.key] = nil
        }
        entries[SQLText(sql)] = (prepared, clock)
        return prepared
    }

    mutating func removeAll() {
        for entry in entries.values { sqlite3_finalize(entry.statement) }
        entries = [:]
    }
}

/// SQL text as a key of ``StatementCache``: hashed by its length and its
/// first and last bytes, not all of it. The writer's statements run to a
/// kilobyte or more, and hashing each whole at every use was about 2% of a
/// durable callback's instructions (callgrind). Equality is the whole
/// text's (the same string, as a statement's `static let` passes each
/// time, compares at once); statements alike at both ends only share a
/// bucket.
struct SQLText: Hashable {
    let text: String

    init(_ text: String) { self.text = text }

    /// Bytes hashed from each end.
    static let hashedEnd = 24

    static func == (a: SQLText, b: SQLText) -> Bool { a.text == b.text }

    func hash(into hasher: inout Hasher) {
        var text = text
        text.withUTF8 { bytes in
            hasher.combine(bytes.count)
            let raw = UnsafeRawBufferPointer(bytes)
            hasher.combine(bytes: UnsafeRawBufferPointer(rebasing: raw.prefix(Self.hashedEnd)))
            if raw.count > Self.hashedEnd {
                hasher.combine(bytes: UnsafeRawBufferPointer(rebasing: raw.suffix(min(Self.hashedEnd, raw.count - Self.hashedEnd))))
            }
        }
    }
}
