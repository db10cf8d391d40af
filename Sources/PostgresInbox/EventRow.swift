import Foundation
import Inbox
import PostgresNIO

/// The columns every query that returns events selects, in the order
/// ``InboxEvent/init(row:)`` reads them.
let eventColumns = """
    id, idempotency_key, content_hash, kind, merchant_id, order_type, order_no, status, order_ref, \
    previous_status, is_stale, raw_body, received_at, state, lease_owner, state_at, attempts, last_error, conflicts, \
    source
    """

/// `eventColumns` with no body (a NULL in its place): what a write that has
/// the body in hand RETURNs, so that it is not sent back (a copy of every callback).
let eventColumnsButBody = eventColumns.replacingOccurrences(of: "raw_body, ", with: "NULL::bytea AS raw_body, ")

/// `eventColumns` qualified by a table alias, for joins.
func eventColumns(of alias: String) -> String {
    eventColumns.split(separator: ", ").map { "\(alias).\($0)" }.joined(separator: ", ")
}

/// Reads a row's cells in order.
private struct CellReader {
    var cells: PostgresRow.Iterator

    mutating func next<Value: PostgresDecodable>(_: Value.Type = Value.self) throws -> Value {
        guard let cell = cells.next() else { throw PostgresDecodingError.Code.missingData }
        return try cell.decode(Value.self)
    }
}

/// A stored value the inbox did not write.
struct UnreadableEvent: Error, CustomStringConvertible {
    let id: String
    let what: String
    var description: String { "event \(id) has \(what)" }
}

extension InboxEvent {
    /// `rawBody`: the body, for a row of ``eventColumnsButBody``.
    init(row: PostgresRow, rawBody: [UInt8]? = nil) throws {
        var reader = CellReader(cells: row.makeIterator())
        let id: String = try reader.next()
        let key: String = try reader.next()
        let contentHash: String = try reader.next()
        let kindName: String = try reader.next()
        let merchantID: Int64 = try reader.next()
        let orderType: Int? = try reader.next()
        let orderNo: String = try reader.next()
        let status: Int = try reader.next()
        let order: String = try reader.next()
        let previousStatus: Int? = try reader.next()
        let isStale: Bool = try reader.next()
        let body: ByteBuffer? = try reader.next()
        let receivedAt: Date = try reader.next()
        let stateName: String = try reader.next()
        let leaseOwner: String? = try reader.next()
        let stateAt: Date? = try reader.next()
        let attempts: Int = try reader.next()
        let lastError: String? = try reader.next()
        let conflicts: Int = try reader.next()
        let sourceName: String = try reader.next()

        guard let kind = EventKind(rawValue: kindName) else { throw UnreadableEvent(id: id, what: "kind \(kindName)") }
        guard let source = EventSource(rawValue: sourceName) else {
            throw UnreadableEvent(id: id, what: "source \(sourceName)")
        }
        let state: EventState
        switch (EventStateName(rawValue: stateName), leaseOwner, stateAt) {
        case (.pending, _, _): state = .pending
        case (.processing, let owner?, let until?): state = .processing(owner: owner, leaseUntil: until)
        case (.completed, _, let at?): state = .completed(at: at)
        case (.waitingRetry, _, let due?): state = .waitingRetry(nextAttemptAt: due)
        case (.dead, _, let at?): state = .dead(at: at)
        default: throw UnreadableEvent(id: id, what: "state \(stateName) without its time or owner")
        }
        self.init(
            id: id, key: IdempotencyKey(rawValue: key), contentHash: contentHash, kind: kind, merchantID: merchantID,
            orderType: orderType, orderNo: orderNo, status: status, order: OrderReference(rawValue: order),
            previousStatus: previousStatus, isStale: isStale, source: source, rawBody: rawBody ?? Array((body ?? ByteBuffer()).readableBytesView),
            receivedAt: receivedAt, state: state, attempts: attempts, lastError: lastError, conflicts: conflicts)
    }
}

extension PostgresRowSequence {
    /// Every row as an event (with `rawBody` when the rows carry none).
    func events(rawBody: [UInt8]? = nil) async throws -> [InboxEvent] {
        var events: [InboxEvent] = []
        for try await row in self { events.append(try InboxEvent(row: row, rawBody: rawBody)) }
        return events
    }
}

extension EventState {
    /// The `state`, `lease_owner` and `state_at` columns.
    var columns: (name: String, owner: String?, at: Date?) {
        switch self {
        case .pending: (name.rawValue, nil, nil)
        case .processing(let owner, let until): (name.rawValue, owner, until)
        case .completed(let at): (name.rawValue, nil, at)
        case .waitingRetry(let due): (name.rawValue, nil, due)
        case .dead(let at): (name.rawValue, nil, at)
        }
    }
}
