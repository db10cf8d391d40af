import Inbox
import SQLiteStore

/// A WHERE condition with its parameters, in placeholder order.
struct SQLCondition {
    var sql: String
    var parameters: [SQLiteValue]
    /// The index a statement reading by this condition alone must use
    /// (`INDEXED BY`), when the planner, without statistics, might pick a
    /// worse one; dropped when conditions are combined.
    var index: String? = nil

    /// Both conditions.
    static func && (lhs: SQLCondition, rhs: SQLCondition) -> SQLCondition {
        SQLCondition(sql: "(\(lhs.sql)) AND (\(rhs.sql))", parameters: lhs.parameters + rhs.parameters)
    }
}

extension EventFilter {
    /// The filter's criteria as a condition on `inbox_events`, matching what
    /// ``EventFilter/matches(_:)`` matches (times to the millisecond). The
    /// limit is not part of it.
    var condition: SQLCondition {
        var terms: [String] = []
        var parameters: [SQLiteValue] = []
        if let states {
            terms.append(Self.membership("state", states.map(\.rawValue), &parameters))
        }
        if let kinds {
            terms.append(Self.membership("kind", kinds.map(\.rawValue), &parameters))
        }
        if let merchantID {
            terms.append("merchant_id = ?")
            parameters.append(.integer(merchantID))
        }
        if let orderNo {
            // The default BINARY collation compares bytes, as `matches` does.
            terms.append("order_no = ?")
            parameters.append(.text(orderNo))
        }
        if let status {
            terms.append("status = ?")
            parameters.append(.integer(Int64(status)))
        }
        if let receivedFrom {
            terms.append("received_at >= ?")
            parameters.append(.time(receivedFrom))
        }
        if let receivedBefore {
            terms.append("received_at < ?")
            parameters.append(.time(receivedBefore))
        }
        return SQLCondition(sql: terms.isEmpty ? "1" : terms.joined(separator: " AND "), parameters: parameters)
    }

    /// The limit as SQLite's `LIMIT` takes it: -1 for none.
    var sqlLimit: SQLiteValue { .integer(limit.map { Int64(max(0, $0)) } ?? -1) }

    /// `column IN (?, …)`; an empty set matches nothing.
    private static func membership(_ column: String, _ values: [String], _ parameters: inout [SQLiteValue]) -> String {
        guard !values.isEmpty else { return "0" }
        parameters += values.sorted().map { .text($0) }
        return "\(column) IN (\(Array(repeating: "?", count: values.count).joined(separator: ", ")))"
    }
}
