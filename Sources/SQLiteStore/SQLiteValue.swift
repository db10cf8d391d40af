/// A value bound to a statement parameter or read from a result column.
///
/// Literals work as parameters: `try db.execute("INSERT INTO t VALUES (?, ?, ?)", 1, "a", nil)`;
/// variables take the case: `.integer(id)`, `.text(name)`, `.blob(bytes)`.
public enum SQLiteValue: Sendable, Hashable {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)
    case blob([UInt8])

    /// The integer, or nil for any other storage class.
    public var int64: Int64? {
        if case .integer(let value) = self { return value }
        return nil
    }

    /// The integer as an `Int`, or nil for any other storage class.
    public var int: Int? { int64.map { Int($0) } }

    /// The floating-point value, or nil for any other storage class.
    public var double: Double? {
        if case .real(let value) = self { return value }
        return nil
    }

    /// The text, or nil for any other storage class.
    public var string: String? {
        if case .text(let value) = self { return value }
        return nil
    }

    /// The bytes, or nil for any other storage class.
    public var bytes: [UInt8]? {
        if case .blob(let value) = self { return value }
        return nil
    }

    public var isNull: Bool { self == .null }
}

extension SQLiteValue: ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral,
    ExpressibleByStringLiteral, ExpressibleByNilLiteral
{
    public init(integerLiteral value: Int64) { self = .integer(value) }
    public init(floatLiteral value: Double) { self = .real(value) }
    public init(stringLiteral value: String) { self = .text(value) }
    public init(nilLiteral: ()) { self = .null }
}

/// One result row: values by position, or by column name.
public struct SQLiteRow: Sendable, Hashable {
    /// The column names, shared by every row of a result.
    public let columns: [String]
    public let values: [SQLiteValue]

    public init(columns: [String], values: [SQLiteValue]) {
        self.columns = columns
        self.values = values
    }

    public subscript(index: Int) -> SQLiteValue { values[index] }

    /// The value of the first column called `column`, or nil when there is none.
    public subscript(column: String) -> SQLiteValue? {
        columns.firstIndex(of: column).map { values[$0] }
    }
}
