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
    /// `rawBody`: the body, for a row that carries none.
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
        let state = try EventState(id: id, name: stateName, leaseOwner: leaseOwner, stateAt: stateAt)
        self.init(
            id: id, key: IdempotencyKey(rawValue: key), contentHash: contentHash, kind: kind, merchantID: merchantID,
            orderType: orderType, orderNo: orderNo, status: status, order: OrderReference(rawValue: order),
            previousStatus: previousStatus, isStale: isStale, source: source, rawBody: rawBody ?? Array((body ?? ByteBuffer()).readableBytesView),
            receivedAt: receivedAt, state: state, attempts: attempts, lastError: lastError, conflicts: conflicts)
    }
}

extension InboxEvent {
    /// The event `new` as a record inserted it: what the request sent, and
    /// from `cells` (`PostgresInbox.recordedColumns`) what the database
    /// decided: the order's previous status, staleness, the state and lease,
    /// and the time of receipt as stored (to the microsecond).
    init(recorded new: NewInboxEvent, cells: inout PostgresRow.Iterator) throws {
        var reader = CellReader(cells: cells)
        defer { cells = reader.cells }
        let previousStatus: Int? = try reader.next()
        let isStale: Bool = try reader.next()
        let receivedAt: Date = try reader.next()
        let stateName: String = try reader.next()
        let leaseOwner: String? = try reader.next()
        let stateAt: Date? = try reader.next()
        let attempts: Int = try reader.next()
        let lastError: String? = try reader.next()
        let conflicts: Int = try reader.next()
        self.init(
            id: new.id, key: new.key, contentHash: new.contentHash, kind: new.kind, merchantID: new.merchantID,
            orderType: new.orderType, orderNo: new.orderNo, status: new.status, order: new.order,
            previousStatus: previousStatus, isStale: isStale, source: new.source, rawBody: new.rawBody,
            receivedAt: receivedAt,
            state: try EventState(id: new.id, name: stateName, leaseOwner: leaseOwner, stateAt: stateAt),
            attempts: attempts, lastError: lastError, conflicts: conflicts)
    }
}

extension AsyncSequence where Element == PostgresRow {
    /// Every row as an event (with `rawBody` when the rows carry none).
    func events(rawBody: [UInt8]? = nil) async throws -> [InboxEvent] {
        var events: [InboxEvent] = []
        for try await row in self { events.append(try InboxEvent(row: row, rawBody: rawBody)) }
        return events
    }
}

extension EventState {
    /// The state the `state`, `lease_owner` and `state_at` columns of event `id` give.
    init(id: String, name: String, leaseOwner: String?, stateAt: Date?) throws {
        switch (EventStateName(rawValue: name), leaseOwner, stateAt) {
        case (.pending, _, _): self = .pending
        case (.processing, let owner?, let until?): self = .processing(owner: owner, leaseUntil: until)
        case (.completed, _, let at?): self = .completed(at: at)
        case (.waitingRetry, _, let due?): self = .waitingRetry(nextAttemptAt: due)
        case (.dead, _, let at?): self = .dead(at: at)
        default: throw UnreadableEvent(id: id, what: "state \(name) without its time or owner")
        }
    }

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
