import Foundation
import HTTPServer
import Inbox
import TrustPay
import Webhooks

/// The JSON API under `/api/`, for the console's pages and for scripts.
/// Callers are already authenticated (``OperatorConsole``). Parameters come
/// from the query string, and for `POST` also from a form-encoded body.
struct ConsoleAPI: Sendable {
    let store: any InboxAdministration
    /// The configured merchants, for `/api/expected`; empty accepts any.
    var merchants: [Int64] = []
    /// Counts the orders waiting for reconciliation; nil when it is off.
    var reconciliation: ReconciliationWatch? = nil

    enum Route: String, CaseIterable, Sendable {
        case overview = "/api/overview"
        case events = "/api/events"
        case event = "/api/event"
        case replay = "/api/replay"
        case purge = "/api/purge"
        case retryDead = "/api/dead-letters/retry"
        case expected = "/api/expected"

        var path: String { rawValue }
        var method: HTTPMethod {
            switch self {
            case .overview, .events, .event: .get
            case .replay, .purge, .retryDead, .expected: .post
            }
        }
    }

    static let defaultPageSize = 50
    static let maxPageSize = 500

    func answer(_ route: Route, _ request: HTTPRequest) async -> HTTPResponse {
        var fields = FormFields(request.query)
        if request.method == .post { fields = FormFields((request.query.map { $0 + "&" } ?? "") + String(decoding: request.body, as: UTF8.self)) }
        do {
            switch route {
            case .overview: return try await overview()
            case .events: return try await events(fields)
            case .event: return try await event(fields)
            case .replay: return try await replay(fields)
            case .purge: return try await purge(fields)
            case .retryDead: return try await retryDead(fields)
            case .expected: return try await expect(fields)
            }
        } catch let problem as Problem {
            return .error(problem.status, code: problem.code, message: problem.message)
        } catch {
            // The store's own words may name a database URL: kept for the log.
            return .error(.serviceUnavailable, code: "store_unavailable", message: "the store does not answer")
        }
    }

    private func overview() async throws -> HTTPResponse {
        let available = (try? await store.checkAvailability()) != nil
        return Self.json(try await InboxOverview.object(store, storeAvailable: available, reconciliation: reconciliation, now: Date()))
    }

    /// Newest first, a page at a time.
    private func events(_ fields: FormFields) async throws -> HTTPResponse {
        let query = try Self.query(fields)
        let perPage = try Self.integer(fields, "per_page", in: 1...Self.maxPageSize) ?? Self.defaultPageSize
        let page = try Self.integer(fields, "page", in: 1...Int.max) ?? 1
        let (events, held, total) = try await query.page(page, size: perPage, on: store)
        return Self.json([
            "events": .array(events.map { .object(EventRendering.summary($0, heldBehind: held[$0.id])) }),
            "total": .integer(total),
            "page": .integer(page),
            "per_page": .integer(perPage),
            "pages": .integer(max(1, (total + perPage - 1) / perPage)),
        ])
    }

    private func event(_ fields: FormFields) async throws -> HTTPResponse {
        let event = try await existing(fields)
        var object = try await EventDetail.object(event, in: store)
        object["body_text"] = .string(IndentedJSON.text(object["body"] ?? .null))
        // The copies' bodies indented here too: JSON.stringify would rewrite numbers (20.00 as 20).
        if let copies = object["conflicting_copies"]?.arrayValue {
            object["conflicting_copies"] = .array(copies.map { copy in
                guard var fields = copy.objectValue else { return copy }
                fields["body_text"] = .string(IndentedJSON.text(fields["body"] ?? .null))
                return .object(fields)
            })
        }
        return Self.json(object)
    }

    private func replay(_ fields: FormFields) async throws -> HTTPResponse {
        let event = try await existing(fields)
        guard let replayed = try await store.replay(id: event.id, now: Date()) else {
            throw Problem(.conflict, "in_progress", "event \(event.id) is being processed right now; try again")
        }
        return Self.json(["replayed": .string(replayed.id), "state": .string(replayed.state.name.rawValue)])
    }

    /// One event: the store purges by filter, so the filter is narrowed to
    /// this event's key and receipt time, and checked to match only it.
    private func purge(_ fields: FormFields) async throws -> HTTPResponse {
        let event = try await existing(fields)
        let filter = EventFilter(
            kinds: [event.kind], merchantID: event.merchantID, orderNo: event.orderNo, status: event.status,
            receivedFrom: event.receivedAt, receivedBefore: event.receivedAt.addingTimeInterval(0.001))
        guard try await store.list(filter).map(\.id) == [event.id] else {
            throw Problem(.conflict, "ambiguous", "another event shares this one's order, status and time; use events purge")
        }
        guard try await store.purge(filter) == 1 else {
            throw Problem(.conflict, "in_progress", "event \(event.id) is being processed right now; try again")
        }
        return Self.json(["purged": .string(event.id)])
    }

    /// `all=1`, or the `id` fields (repeatable) of the dead letters to replay.
    private func retryDead(_ fields: FormFields) async throws -> HTTPResponse {
        let ids = fields.values("id")
        let replayed: Int
        if fields["all"] == "1" {
            replayed = try await DeadLetterRetry.replay(matching: .deadLetters, in: store)
        } else if !ids.isEmpty {
            replayed = try await DeadLetterRetry.replay(ids: ids, in: store)
        } else {
            throw Problem(.badRequest, "nothing_selected", "give all=1 or one id field per dead letter")
        }
        return Self.json(["replayed": .integer(replayed)])
    }

    /// Registers an expected order for reconciliation: `order_no`, `merchant`
    /// (optional with one merchant configured), `type` (`payin`, the
    /// default, or `payout`).
    private func expect(_ fields: FormFields) async throws -> HTTPResponse {
        let known: Set = ["order_no", "merchant", "type"]
        if let unknown = fields.names.first(where: { !known.contains($0) }) {
            throw Problem(.badRequest, "unknown_parameter", "unknown parameter \(unknown)")
        }
        guard let orderNo = fields["order_no"], !orderNo.isEmpty, orderNo.utf8.count <= 256 else {
            throw Problem(.badRequest, "missing_order_no", "give the order's order_no (up to 256 bytes)")
        }
        let merchant: Int64
        if let text = fields["merchant"] {
            guard let value = Int64(text), value > 0 else {
                throw Problem(.badRequest, "bad_merchant", "merchant is a merchant id")
            }
            merchant = value
        } else if merchants.count == 1, let only = merchants.first {
            merchant = only
        } else {
            throw Problem(.badRequest, "missing_merchant", "give the merchant: several are configured")
        }
        guard merchants.isEmpty || merchants.contains(merchant) else {
            throw Problem(.badRequest, "unknown_merchant", "merchant \(merchant) is not configured")
        }
        let type: OrderType
        switch fields["type"] ?? "payin" {
        case "payin": type = .payin
        case "payout": type = .payout
        default: throw Problem(.badRequest, "bad_type", "type is payin or payout")
        }
        guard let reconciliation = store as? any ReconciliationStore else {
            throw Problem(.conflict, "not_supported", "this store keeps no expected orders")
        }
        let isNew = try await reconciliation.expect(
            ExpectedOrder(merchantID: merchant, type: type, orderNo: orderNo, expectedAt: Date()))
        return Self.json(
            [
                "order_no": .string(orderNo), "merchant_id": .integer(merchant), "type": .string("\(type)"),
                "new": .bool(isNew),
            ], status: .ok)
    }

    private func existing(_ fields: FormFields) async throws -> InboxEvent {
        guard let id = fields["id"] else { throw Problem(.badRequest, "missing_id", "give the event's id") }
        guard let event = try await store.event(id: id) else { throw Problem(.notFound, "no_event", "no event \(id)") }
        return event
    }

    /// The Events page's filters, named as in the query string: `status`,
    /// `kind`, `merchant`, `order_no`, `state`, `dead`, `since`, `until`.
    static func query(_ fields: FormFields) throws -> EventQuery {
        let known: Set = ["status", "kind", "merchant", "order_no", "state", "dead", "since", "until", "page", "per_page"]
        if let unknown = fields.names.first(where: { !known.contains($0) }) {
            throw Problem(.badRequest, "unknown_parameter", "unknown parameter \(unknown)")
        }
        var query = EventQuery()
        query.status = try integer(fields, "status", in: Int.min...Int.max)
        if let kind = fields["kind"] {
            guard let value = EventKind(rawValue: kind) else { throw Problem(.badRequest, "bad_kind", "kind is payment or card") }
            query.kind = value
        }
        if let merchant = fields["merchant"] {
            guard let value = Int64(merchant) else { throw Problem(.badRequest, "bad_merchant", "merchant is a merchant id") }
            query.merchant = value
        }
        query.orderNo = fields["order_no"]
        if let state = fields["state"] {
            guard let value = EventQuery.StateChoice(rawValue: state) else {
                let names = EventQuery.StateChoice.allCases.map(\.rawValue).joined(separator: ", ")
                throw Problem(.badRequest, "bad_state", "state is one of \(names)")
            }
            query.state = value
        }
        query.dead = ["1", "true", "on"].contains(fields["dead"] ?? "")
        query.since = fields["since"]
        query.until = fields["until"]
        if let problem = query.problem() { throw Problem(.badRequest, "bad_filter", problem) }
        return query
    }

    private static func integer(_ fields: FormFields, _ name: String, in range: ClosedRange<Int>) throws -> Int? {
        guard let text = fields[name] else { return nil }
        guard let value = Int(text), range.contains(value) else {
            throw Problem(.badRequest, "bad_\(name)", "\(name) must be a whole number in \(range.lowerBound)...\(range.upperBound)")
        }
        return value
    }

    static func json(_ object: JSONObject, status: HTTPStatus = .ok) -> HTTPResponse {
        HTTPResponse(status: status, headers: [("Content-Type", "application/json"), ("Cache-Control", "no-store")],
                     body: object.compactJSONBytes)
    }

    struct Problem: Error {
        let status: HTTPStatus
        let code: String
        let message: String
        init(_ status: HTTPStatus, _ code: String, _ message: String) {
            self.status = status
            self.code = code
            self.message = message
        }
    }
}
