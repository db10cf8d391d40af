import Foundation
import Inbox
import SQLiteStore

/// Reading `inbox_events` rows back into ``InboxEvent``s.
enum EventRows {
    /// What every query that returns events selects (or RETURNs).
    static let columns = """
        seq, id, idempotency_key, content_hash, kind, merchant_id, order_type, order_no, status, order_ref, \
        previous_status, is_stale, raw_body, received_at, state, lease_owner, lease_until, next_attempt_at, \
        completed_at, dead_at, attempts, last_error, conflicts, source
        """

    /// ``columns``' names, in order: a row of them is read by position.
    static let columnNames = columns.split(separator: ",").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }

    /// The columns of a new event that the store decides (from the order's
    /// stored events and the lease asked for), in the order `record` binds
    /// them; the rest is the new event it has in hand. `record` builds the
    /// event it returns from them instead of reading the row back.
    static let decidedColumns = "previous_status, is_stale, state, lease_owner, lease_until, attempts"

    /// The event `record` inserted: `new` as stored (times to the
    /// millisecond) with the values of ``decidedColumns``.
    static func inserted(_ new: NewInboxEvent, decided values: [SQLiteValue]) throws(UnreadableRow) -> InboxEvent {
        do throws(UnreadableRow.Reason) {
            guard values.count == 6 else { throw .missing(column: "the inserted event's columns") }
            let previousStatus: Int?
            switch values[0] {
            case .null: previousStatus = nil
            case .integer(let status): previousStatus = Int(status)
            case let other: throw .wrongType(column: "previous_status", other)
            }
            guard let stale = values[1].int64 else { throw .wrongType(column: "is_stale", values[1]) }
            guard let attempts = values[5].int64 else { throw .wrongType(column: "attempts", values[5]) }
            let state: EventState
            switch values[2].string {
            case "pending"?:
                state = .pending
            case "processing"?:
                guard let owner = values[3].string else { throw .wrongType(column: "lease_owner", values[3]) }
                guard let until = values[4].int64 else { throw .wrongType(column: "lease_until", values[4]) }
                state = .processing(owner: owner, leaseUntil: Date(millisecondsSince1970: until))
            default:
                throw .unknownValue(column: "state", "\(values[2])")
            }
            return InboxEvent(
                id: new.id, key: new.key, contentHash: new.contentHash, kind: new.kind, merchantID: new.merchantID,
                orderType: new.orderType, orderNo: new.orderNo, status: new.status, order: new.order,
                previousStatus: previousStatus, isStale: stale != 0, source: new.source, rawBody: new.rawBody,
                receivedAt: Date(millisecondsSince1970: new.receivedAt.millisecondsSince1970), state: state,
                attempts: Int(attempts))
        } catch {
            throw UnreadableRow(eventID: new.id, reason: error)
        }
    }

    /// The event of a row of ``columns``, with its `seq` (its place in the
    /// order of receipt, for sorting rows that RETURNING gives in no order).
    /// `rawBody`: the body, for a row read without it.
    static func event(_ row: SQLiteRow, rawBody: [UInt8]? = nil) throws(UnreadableRow) -> (seq: Int64, event: InboxEvent) {
        let reader = RowReader(row: row, positional: row.columns == columnNames)
        let id = (try? reader.value(.id))?.string
        do throws(UnreadableRow.Reason) {
            let id = try reader.text(.id)
            let kindName = try reader.text(.kind)
            guard let kind = EventKind(rawValue: kindName) else { throw .unknownValue(column: "kind", kindName) }
            let sourceName = try reader.text(.source)
            guard let source = EventSource(rawValue: sourceName) else {
                throw .unknownValue(column: "source", sourceName)
            }
            let body: [UInt8]
            if let rawBody { body = rawBody } else { body = try reader.blob(.rawBody) }
            let event = InboxEvent(
                id: id, key: IdempotencyKey(rawValue: try reader.text(.idempotencyKey)),
                contentHash: try reader.text(.contentHash), kind: kind, merchantID: try reader.integer(.merchantId),
                orderType: try reader.optionalInteger(.orderType).map { Int($0) }, orderNo: try reader.text(.orderNo),
                status: Int(try reader.integer(.status)), order: OrderReference(rawValue: try reader.text(.orderRef)),
                previousStatus: try reader.optionalInteger(.previousStatus).map { Int($0) },
                isStale: try reader.integer(.isStale) != 0, source: source, rawBody: body,
                receivedAt: try reader.date(.receivedAt), state: try state(reader),
                attempts: Int(try reader.integer(.attempts)), lastError: try reader.optionalText(.lastError),
                conflicts: Int(try reader.integer(.conflicts)))
            return (try reader.integer(.seq), event)
        } catch {
            throw UnreadableRow(eventID: id, reason: error)
        }
    }

    /// All the events of `rows`, in the order of receipt.
    static func events(_ rows: [SQLiteRow], newestFirst: Bool = false) throws(UnreadableRow) -> [InboxEvent] {
        var events: [(seq: Int64, event: InboxEvent)] = []
        for row in rows { events.append(try event(row)) }
        return events.sorted { newestFirst ? $0.seq > $1.seq : $0.seq < $1.seq }.map(\.event)
    }

    /// An event's history from its `inbox_attempts` and
    /// `inbox_conflicting_copies` rows, each in order.
    static func history(attempts: [SQLiteRow], copies: [SQLiteRow]) throws(UnreadableRow) -> EventHistory {
        var history = EventHistory()
        do throws(UnreadableRow.Reason) {
            for row in attempts {
                let reader = RowReader(row: row)
                let outcomeName = try reader.text("outcome")
                guard let outcome = HandlerAttempt.Outcome(rawValue: outcomeName) else {
                    throw .unknownValue(column: "outcome", outcomeName)
                }
                history.attempts.append(HandlerAttempt(
                    number: Int(try reader.integer("number")), startedAt: try reader.date("started_at"),
                    endedAt: try reader.date("ended_at"), outcome: outcome, error: try reader.optionalText("error")))
            }
            for row in copies {
                let reader = RowReader(row: row)
                history.conflictingCopies.append(ConflictingCopy(
                    contentHash: try reader.text("content_hash"), rawBody: try reader.blob("raw_body"),
                    receivedAt: try reader.date("received_at")))
            }
        } catch {
            throw UnreadableRow(eventID: nil, reason: error)
        }
        return history
    }

    private static func state(_ reader: RowReader) throws(UnreadableRow.Reason) -> EventState {
        let name = try reader.text(.state)
        switch EventStateName(rawValue: name) {
        case .pending: return .pending
        case .processing:
            return .processing(owner: try reader.text(.leaseOwner), leaseUntil: try reader.date(.leaseUntil))
        case .waitingRetry: return .waitingRetry(nextAttemptAt: try reader.date(.nextAttemptAt))
        case .completed: return .completed(at: try reader.date(.completedAt))
        case .dead: return .dead(at: try reader.date(.deadAt))
        case nil: throw .unknownValue(column: "state", name)
        }
    }
}

/// A row the inbox cannot make sense of: written by something else, or corrupt.
struct UnreadableRow: Error, CustomStringConvertible {
    enum Reason: Error, CustomStringConvertible {
        case missing(column: String)
        case wrongType(column: String, SQLiteValue)
        case unknownValue(column: String, String)

        var description: String {
            switch self {
            case .missing(let column): "\(column) is missing"
            case .wrongType(let column, let value): "\(column) holds \(value)"
            case .unknownValue(let column, let value): "\(column) holds the unknown value \(value)"
            }
        }
    }

    let eventID: String?
    let reason: Reason

    var description: String { "the stored event \(eventID ?? "without an id") is unreadable: \(reason)" }
}

/// A column a ``RowReader`` reads: by its name, or by its place in
/// ``EventRows/columns`` when the row has exactly those.
struct RowColumn: ExpressibleByStringLiteral {
    let name: String
    /// Its index in ``EventRows/columnNames``, for an event's columns.
    let position: Int?

    init(stringLiteral name: String) {
        self.name = name
        position = nil
    }

    private init(event name: String) {
        self.name = name
        position = EventRows.columnNames.firstIndex(of: name)
    }

    static let seq = RowColumn(event: "seq")
    static let id = RowColumn(event: "id")
    static let idempotencyKey = RowColumn(event: "idempotency_key")
    static let contentHash = RowColumn(event: "content_hash")
    static let kind = RowColumn(event: "kind")
    static let merchantId = RowColumn(event: "merchant_id")
    static let orderType = RowColumn(event: "order_type")
    static let orderNo = RowColumn(event: "order_no")
    static let status = RowColumn(event: "status")
    static let orderRef = RowColumn(event: "order_ref")
    static let previousStatus = RowColumn(event: "previous_status")
    static let isStale = RowColumn(event: "is_stale")
    static let rawBody = RowColumn(event: "raw_body")
    static let receivedAt = RowColumn(event: "received_at")
    static let state = RowColumn(event: "state")
    static let leaseOwner = RowColumn(event: "lease_owner")
    static let leaseUntil = RowColumn(event: "lease_until")
    static let nextAttemptAt = RowColumn(event: "next_attempt_at")
    static let completedAt = RowColumn(event: "completed_at")
    static let deadAt = RowColumn(event: "dead_at")
    static let attempts = RowColumn(event: "attempts")
    static let lastError = RowColumn(event: "last_error")
    static let conflicts = RowColumn(event: "conflicts")
    static let source = RowColumn(event: "source")
}

/// Typed access to a row's columns. By position when `positional` (the
/// row's columns are ``EventRows/columns``, as every query of events
/// selects or returns them), else by name: finding each of an event's 27
/// reads among 24 names cost about 7,000 instructions per claimed event,
/// one event of two or more under load (callgrind, BENCHMARKS.md session 13).
private struct RowReader {
    let row: SQLiteRow
    var positional = false

    func value(_ column: RowColumn) throws(UnreadableRow.Reason) -> SQLiteValue {
        if positional, let position = column.position { return row.values[position] }
        guard let value = row[column.name] else { throw .missing(column: column.name) }
        return value
    }

    func text(_ column: RowColumn) throws(UnreadableRow.Reason) -> String {
        let value = try value(column)
        guard let text = value.string else { throw .wrongType(column: column.name, value) }
        return text
    }

    func integer(_ column: RowColumn) throws(UnreadableRow.Reason) -> Int64 {
        let value = try value(column)
        guard let integer = value.int64 else { throw .wrongType(column: column.name, value) }
        return integer
    }

    func blob(_ column: RowColumn) throws(UnreadableRow.Reason) -> [UInt8] {
        let value = try value(column)
        guard let bytes = value.bytes else { throw .wrongType(column: column.name, value) }
        return bytes
    }

    func date(_ column: RowColumn) throws(UnreadableRow.Reason) -> Date {
        Date(millisecondsSince1970: try integer(column))
    }

    func optionalText(_ column: RowColumn) throws(UnreadableRow.Reason) -> String? {
        try value(column).isNull ? nil : try text(column)
    }

    func optionalInteger(_ column: RowColumn) throws(UnreadableRow.Reason) -> Int64? {
        try value(column).isNull ? nil : try integer(column)
    }
}

// MARK: - Times

extension Date {
    /// Whole milliseconds since 1970, rounded to the nearest: what the inbox
    /// stores. Dates beyond ±290 million years are clamped.
    var millisecondsSince1970: Int64 {
        let milliseconds = (timeIntervalSince1970 * 1000).rounded()
        guard milliseconds.isFinite else { return milliseconds > 0 ? .max : .min }
        return Int64(exactly: milliseconds) ?? (milliseconds > 0 ? .max : .min)
    }

    init(millisecondsSince1970 milliseconds: Int64) {
        self.init(timeIntervalSince1970: Double(milliseconds) / 1000)
    }
}

extension SQLiteValue {
    static func time(_ date: Date) -> SQLiteValue { .integer(date.millisecondsSince1970) }
}
