import CSQLite

/// An SQLite result code, extended where SQLite gives one: a UNIQUE
/// violation is `SQLITE_CONSTRAINT_UNIQUE` (2067), not just
/// `SQLITE_CONSTRAINT` (19).
public struct SQLiteResultCode: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: Int32

    public init(rawValue: Int32) { self.rawValue = rawValue }

    /// The primary code, the low byte: `.constraint` for `.constraintUnique`.
    public var primary: SQLiteResultCode { SQLiteResultCode(rawValue: rawValue & 0xFF) }

    /// SQLite's wording and the number, e.g. "constraint failed (2067)".
    public var description: String { "\(String(cString: sqlite3_errstr(rawValue))) (\(rawValue))" }

    // The extended codes are macros Swift does not import: primary | (n << 8).
    public static let error = SQLiteResultCode(rawValue: SQLITE_ERROR)
    public static let abort = SQLiteResultCode(rawValue: SQLITE_ABORT)
    public static let busy = SQLiteResultCode(rawValue: SQLITE_BUSY)
    public static let locked = SQLiteResultCode(rawValue: SQLITE_LOCKED)
    public static let readOnly = SQLiteResultCode(rawValue: SQLITE_READONLY)
    public static let ioError = SQLiteResultCode(rawValue: SQLITE_IOERR)
    public static let corrupt = SQLiteResultCode(rawValue: SQLITE_CORRUPT)
    public static let full = SQLiteResultCode(rawValue: SQLITE_FULL)
    public static let cannotOpen = SQLiteResultCode(rawValue: SQLITE_CANTOPEN)
    public static let constraint = SQLiteResultCode(rawValue: SQLITE_CONSTRAINT)
    public static let constraintUnique = SQLiteResultCode(rawValue: SQLITE_CONSTRAINT | (8 << 8))
    public static let constraintPrimaryKey = SQLiteResultCode(rawValue: SQLITE_CONSTRAINT | (6 << 8))
    public static let constraintNotNull = SQLiteResultCode(rawValue: SQLITE_CONSTRAINT | (5 << 8))
    public static let constraintCheck = SQLiteResultCode(rawValue: SQLITE_CONSTRAINT | (1 << 8))
    public static let constraintForeignKey = SQLiteResultCode(rawValue: SQLITE_CONSTRAINT | (3 << 8))
    public static let misuse = SQLiteResultCode(rawValue: SQLITE_MISUSE)
    public static let range = SQLiteResultCode(rawValue: SQLITE_RANGE)
}

/// Why an SQLite operation failed, sorted by what the caller can do about
/// it; each case keeps SQLite's extended result code and message.
public enum SQLiteError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The database file could not be opened or created at `path` (its
    /// directory is missing or not writable, or the file is not a database).
    case cannotOpen(path: String, code: SQLiteResultCode, message: String)
    /// A UNIQUE, PRIMARY KEY, NOT NULL, CHECK or FOREIGN KEY constraint
    /// refused the change; `code` says which, e.g. `.constraintUnique`.
    case constraintViolation(code: SQLiteResultCode, message: String)
    /// Another connection held a lock for longer than the busy timeout
    /// (`SQLITE_BUSY`, `SQLITE_LOCKED`). Retrying later may succeed.
    case busy(code: SQLiteResultCode, message: String)
    /// The operating system failed a read, write or sync, or the disk is full
    /// (`SQLITE_IOERR_*`, `SQLITE_FULL`): nothing of the failed statement or
    /// transaction is stored.
    case ioError(code: SQLiteResultCode, message: String)
    /// Any other failure: SQL that does not compile, a corrupt file, misuse.
    case failed(code: SQLiteResultCode, message: String)
    /// The writer or reader pool was closed before this request could run.
    case closed

    /// SQLite's extended result code; nil for `.closed`.
    public var code: SQLiteResultCode? {
        switch self {
        case .cannotOpen(_, let code, _), .constraintViolation(let code, _), .busy(let code, _),
             .ioError(let code, _), .failed(let code, _):
            return code
        case .closed:
            return nil
        }
    }

    public var description: String {
        switch self {
        case .cannotOpen(let path, let code, let message):
            return "cannot open the SQLite database \(path): \(message) [\(code)]"
        case .constraintViolation(let code, let message):
            return "constraint violation: \(message) [\(code)]"
        case .busy(let code, let message):
            return "database busy: \(message) [\(code)]"
        case .ioError(let code, let message):
            return "disk I/O failure: \(message) [\(code)]"
        case .failed(let code, let message):
            return "SQLite error: \(message) [\(code)]"
        case .closed:
            return "the SQLite store is closed"
        }
    }

    /// The error for result `code` on connection `handle`, with SQLite's
    /// message for it (and `context`, such as the SQL, when given).
    static func from(_ code: Int32, on handle: OpaquePointer?, context: String? = nil) -> SQLiteError {
        let extended = SQLiteResultCode(rawValue: handle.map(sqlite3_extended_errcode) ?? code)
        let resolved = extended.primary.rawValue == code & 0xFF ? extended : SQLiteResultCode(rawValue: code)
        var message = handle.map { String(cString: sqlite3_errmsg($0)) } ?? String(cString: sqlite3_errstr(code))
        if let context { message += " in: \(context)" }
        return classify(resolved, message: message)
    }

    static func classify(_ code: SQLiteResultCode, message: String) -> SQLiteError {
        switch code.primary {
        case .constraint: return .constraintViolation(code: code, message: message)
        case .busy, .locked: return .busy(code: code, message: message)
        case .ioError, .full: return .ioError(code: code, message: message)
        default: return .failed(code: code, message: message)
        }
    }
}
