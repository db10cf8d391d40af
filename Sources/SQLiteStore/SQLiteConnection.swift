import CSQLite
import CSQLiteWALBuffer
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
    /// `gatheringWALFrames`: through the `CSQLiteWALBuffer` VFS (see
    /// ``SQLiteConfiguration/gathersWALFrames``), for a connection that writes.
    public init(path: String, configuration: SQLiteConfiguration = SQLiteConfiguration(),
                access: Access = .readWrite, gatheringWALFrames: Bool = false) throws(SQLiteError) {
        _ = Self.processWideSettings
        var flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE
        if access == .readWrite { flags |= SQLITE_OPEN_CREATE }
        var opened: OpaquePointer?
        let vfs = gatheringWALFrames ? csqlite_wal_buffer_vfs() : nil
        if gatheringWALFrames && vfs == nil {
            throw .cannotOpen(path: path, code: .cannotOpen, message: "the WAL-gathering VFS could not be registered")
        }
        let rc = sqlite3_open_v2(path, &opened, flags, vfs)
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

    /// Set once, before the process's first connection initializes SQLite
    /// (afterwards SQLite refuses them, and they are left as they were).
    /// Memory statistics off: Debian's SQLite has no lookaside allocator, so
    /// every allocation goes to malloc, ~75 per durable callback on the
    /// writer, and with statistics on each also took a process-wide mutex
    /// and updated counters nobody here reads (BENCHMARKS.md, session 22).
    private static let processWideSettings: Void = {
        _ = csqlite_disable_memory_statistics()
        _ = sqlite3_initialize()
    }()

    /// For a connection gathering WAL frames (`gatheringWALFrames`), once
    /// its WAL is open: the writes that reached the WAL file and the frames
    /// SQLite wrote to it. Nil otherwise.
    var walWrites: (fileWrites: Int, frames: Int)? {
        var fileWrites: UInt64 = 0
        var frames: UInt64 = 0
        guard csqlite_wal_buffer_statistics(handle, &fileWrites, &frames) == 1 else { return nil }
        return (Int(fileWrites), Int(frames))
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
        let expected = Int(sqlite3_bind_parameter_count(statement))
        guard expected == parameters.count else {
            throw .failed(code: .range, message: "the statement takes \(expected) parameters, "
                          + "\(parameters.count) were given, in: \(sql)")
        }
        try bindAndStep(parameters, from: 0, to: statement, sql: sql, row: row)
    }

    /// Binds `parameters` from `start` on, then steps the statement to its
    /// end and resets it. A text's or a blob's bytes are bound where they
    /// are (SQLITE_STATIC), inside the closure that lends them, and the rest
    /// of the binding and the steps run inside it too, so SQLite reads them
    /// only while they exist; the statement is reset and its bindings
    /// cleared before any closure returns. SQLITE_TRANSIENT made SQLite
    /// allocate, copy and free each of them: about 470 instructions a text,
    /// 17 texts a durable callback (callgrind).
    private func bindAndStep(_ parameters: [SQLiteValue], from start: Int, to statement: OpaquePointer, sql: String,
                             row: (OpaquePointer) -> Void) throws(SQLiteError) {
        var index = start
        while index < parameters.count {
            let position = Int32(index + 1)
            switch parameters[index] {
            case .null:
                try check(sqlite3_bind_null(statement, position), statement, sql)
            case .integer(let integer):
                try check(sqlite3_bind_int64(statement, position, integer), statement, sql)
            case .real(let real):
                try check(sqlite3_bind_double(statement, position, real), statement, sql)
            case .text(var text):
                let failure = text.withUTF8 { utf8 in
                    bindLent(parameters, at: index, to: statement, sql: sql, row: row) {
                        // An empty buffer may have no address, which SQLite would bind as NULL.
                        utf8.baseAddress.map {
                            sqlite3_bind_text(statement, position, UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self),
                                              Int32(utf8.count), nil)
                        } ?? csqlite_bind_text_copy(statement, position, "", 0)
                    }
                }
                if let failure { throw failure }
                return
            case .blob(let bytes):
                let failure = bytes.withUnsafeBytes { raw in
                    bindLent(parameters, at: index, to: statement, sql: sql, row: row) {
                        raw.baseAddress.map { sqlite3_bind_blob(statement, position, $0, Int32(raw.count), nil) }
                            ?? sqlite3_bind_zeroblob(statement, position, 0)
                    }
                }
                if let failure { throw failure }
                return
            }
            index += 1
        }
        defer {
            sqlite3_reset(statement)
            sqlite3_clear_bindings(statement)
        }
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

    /// Binds parameter `index` with `bind`, which binds bytes lent for the
    /// time of the caller's closure, then the rest and the steps, all
    /// inside that closure; returns the error instead of throwing it (the
    /// lending functions rethrow untyped errors).
    private func bindLent(_ parameters: [SQLiteValue], at index: Int, to statement: OpaquePointer, sql: String,
                          row: (OpaquePointer) -> Void, _ bind: () -> Int32) -> SQLiteError? {
        do throws(SQLiteError) {
            try check(bind(), statement, sql)
            try bindAndStep(parameters, from: index + 1, to: statement, sql: sql, row: row)
            return nil
        } catch {
            return error
        }
    }

    /// Throws the error of a failed bind, its statement reset and its
    /// bindings cleared first (the buffers bound so far are about to go).
    private func check(_ rc: Int32, _ statement: OpaquePointer, _ sql: String) throws(SQLiteError) {
        guard rc != SQLITE_OK else { return }
        let error = SQLiteError.from(rc, on: handle, context: sql)
        sqlite3_reset(statement)
        sqlite3_clear_bindings(statement)
        throw error
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
    /// The statements last used, by the identity of their SQL string (see
    /// ``SQLIdentity``), in front of `entries`: the writer passes the same
    /// `static let` strings again and again, and a hit here hashes no text.
    /// Hashing the SQL for `entries` was about 800 instructions a lookup,
    /// six lookups a durable callback (callgrind). Each slot keeps its
    /// string, so no other string can take its identity while it is there.
    private var recent = [(sql: String, identity: SQLIdentity, statement: OpaquePointer)?](repeating: nil, count: 16)

    init(capacity: Int) { self.capacity = max(1, capacity) }

    mutating func statement(for sql: String, on handle: OpaquePointer) throws(SQLiteError) -> OpaquePointer {
        clock += 1
        let identity = SQLIdentity(sql)
        let slot = identity.slot(of: recent.count)
        if let hit = recent[slot], hit.identity == identity { return hit.statement }
        let statement = try lookUp(sql, on: handle)
        recent[slot] = (sql, identity, statement)
        return statement
    }

    private mutating func lookUp(_ sql: String, on handle: OpaquePointer) throws(SQLiteError) -> OpaquePointer {
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
        if entries.count >= capacity {
            // Hits in `recent` did not touch their entries' last use.
            for case let (sql, _, _)? in recent { entries[SQLText(sql)]?.lastUse = clock }
            if let oldest = entries.min(by: { $0.value.lastUse < $1.value.lastUse }) {
                sqlite3_finalize(oldest.value.statement)
                entries[oldest.key] = nil
                for slot in recent.indices where recent[slot]?.statement == oldest.value.statement { recent[slot] = nil }
            }
        }
        entries[SQLText(sql)] = (prepared, clock)
        return prepared
    }

    mutating func removeAll() {
        for entry in entries.values { sqlite3_finalize(entry.statement) }
        entries = [:]
        recent = recent.map { _ in nil }
    }
}

/// A string's identity: its two words, equal only for the same storage (a
/// string in memory, such as a `static let` passed each time) or the same
/// small string (held in the words themselves). Equal identities are equal
/// texts while one of the strings is alive; different identities may still
/// be equal texts (two copies), which then only miss ``StatementCache``'s
/// front.
struct SQLIdentity: Equatable {
    let first: UInt64
    let second: UInt64

    init(_ text: String) {
        (first, second) = unsafeBitCast(text, to: (UInt64, UInt64).self)
    }

    /// One of `count` slots (a power of two).
    func slot(of count: Int) -> Int {
        let mixed = (first ^ second) &* 0x9E37_79B9_7F4A_7C15
        return Int(truncatingIfNeeded: mixed >> 58) & (count - 1)
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
