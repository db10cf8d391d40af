import Foundation
import Inbox
import TrustPay
import Webhooks

/// How events are shown to an operator: by the `events` commands and by the
/// console, which serves the same fields as JSON.
package enum EventRendering {
    /// The fields of `events list --json`, in a fixed order. `heldBehind`
    /// is the id of the earlier unfinished event of the order that holds
    /// this one back (see ``HeldEvents``): its state is then `held`, and
    /// `held_behind` is added last.
    package static func summary(_ event: InboxEvent, heldBehind: String? = nil) -> JSONObject {
        var object: JSONObject = [
            "id": .string(event.id),
            "kind": .string(event.kind.rawValue),
            "merchant_id": .integer(event.merchantID),
            "order_no": .string(event.orderNo),
            "order_type": orderType(event).map { .string($0) } ?? .null,
            "status": .integer(event.status),
            "state": .string(heldBehind == nil ? event.state.name.rawValue : "held"),
            "attempts": .integer(event.attempts),
            "last_error": event.lastError.map { .string($0) } ?? .null,
            "received_at": .string(timestamp(event.receivedAt)),
            "previous_status": event.previousStatus.map { .integer($0) } ?? .null,
            "stale": .bool(event.isStale),
            "conflicts": .integer(event.conflicts),
            "next_attempt_at": nextAttempt(event.state).map { .string(timestamp($0)) } ?? .null,
            // `callback`, or `order-query` when reconciliation recorded it
            // from TrustPay's Order Query API (its body is the answer).
            "source": .string(event.source.rawValue),
        ]
        if let heldBehind { object["held_behind"] = .string(heldBehind) }
        return object
    }

    /// `payin` or `payout` for a payment (another code as its number); a card
    /// callback's `type` (`OPEN_CARD`, `CARD_CHARGE`) from its body.
    package static func orderType(_ event: InboxEvent) -> String? {
        switch event.kind {
        case .payment:
            return event.orderType.map { $0 == 0 ? "payin" : $0 == 1 ? "payout" : String($0) }
        case .card:
            guard case .object(let fields)? = try? JSONValue(parsing: event.rawBody) else { return nil }
            return fields["type"]?.stringValue
        }
    }

    package static func timestamp(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: date)
    }

    private static func nextAttempt(_ state: EventState) -> Date? {
        if case .waitingRetry(let due) = state { due } else { nil }
    }

    /// A fixed-width table with a header line; a note when there is nothing.
    package static func table(_ events: [InboxEvent], heldBehind: [String: String] = [:]) -> String {
        guard !events.isEmpty else { return "no events\n" }
        let header = ["ID", "KIND", "MERCHANT", "ORDER NO", "TYPE", "STATUS", "STATE", "ATTEMPTS", "RECEIVED", "NOTES"]
        let rows = events.map { event -> [String] in
            var notes: [String] = []
            if let holder = heldBehind[event.id] { notes.append("behind \(holder)") }
            if let previous = event.previousStatus { notes.append("after \(previous)") }
            if event.isStale { notes.append("stale") }
            if event.source == .orderQuery { notes.append("order query") }
            if event.conflicts > 0 { notes.append("\(event.conflicts) conflict\(event.conflicts == 1 ? "" : "s")") }
            if let error = event.lastError { notes.append("error: \(error.prefix(60))") }
            return [
                event.id, event.kind.rawValue, String(event.merchantID), event.orderNo,
                orderType(event) ?? "-", String(event.status),
                heldBehind[event.id] == nil ? event.state.name.rawValue : "held",
                String(event.attempts), timestamp(event.receivedAt), notes.joined(separator: ", "),
            ]
        }
        let widths = header.indices.map { column in
            ([header] + rows).map { $0[column].count }.max() ?? 0
        }
        return ([header] + rows).map { row in
            zip(row, widths).map { $0.padding(toLength: $1, withPad: " ", startingAt: 0) }
                .joined(separator: "  ").trimmingCharacters(in: .whitespaces)
        }.joined(separator: "\n") + "\n"
    }
}

/// Events held back: of an order's unfinished events (pending, processing,
/// waiting to retry) only the first in order of receipt may run; the later
/// ones wait behind it. The stores keep this as a `held` column (SQLite and
/// PostgreSQL, migration 3) that ``InboxEvent`` does not carry, so it is
/// worked out here by the same rule from the store's own listing, which is
/// in order of receipt.
package enum HeldEvents {
    package static let unfinished: Set<EventStateName> = [.pending, .processing, .waitingRetry]

    /// For each held event among `events`, the id of the event it waits behind.
    package static func holders(of events: [InboxEvent], in store: any InboxAdministration, narrowedBy filter: EventFilter)
        async throws -> [String: String]
    {
        guard events.contains(where: { $0.state.isUnfinished }) else { return [:] }
        // Order-level criteria only: kind, merchant and order number are part
        // of an order's reference; status and times are not.
        let open = try await store.list(EventFilter(
            states: unfinished, kinds: filter.kinds, merchantID: filter.merchantID, orderNo: filter.orderNo))
        return holders(inOrderOfReceipt: open)
    }

    /// `events` in order of receipt: every unfinished one after the first of its order.
    package static func holders(inOrderOfReceipt events: [InboxEvent]) -> [String: String] {
        var first: [OrderReference: String] = [:]
        var held: [String: String] = [:]
        for event in events where event.state.isUnfinished {
            if let holder = first[event.order] {
                held[event.id] = holder
            } else {
                first[event.order] = event.id
            }
        }
        return held
    }
}

/// Hides card data in bodies shown to an operator: digit runs of 12 or more
/// (card numbers) keep only their last four digits, and `cvv`/`card_cvv`
/// values are replaced whole. `merchant_id` is shown as is: it is not card
/// data, and it is printed beside the body anyway.
package enum CardDataMask {
    static let cvvKeys: Set<String> = ["cvv", "card_cvv", "cardcvv", "cvv2", "cvc"]
    static let exemptKeys: Set<String> = ["merchant_id", "merchantId"]

    /// The masked body: its JSON value, or a string when it is not JSON.
    package static func body(_ raw: [UInt8]) -> JSONValue {
        guard let value = try? JSONValue(parsing: raw) else {
            return .string(digits(String(decoding: raw, as: UTF8.self)))
        }
        return mask(value)
    }

    static func mask(_ value: JSONValue, key: String? = nil) -> JSONValue {
        if let key {
            if cvvKeys.contains(key.lowercased()) { return "***" }
            if exemptKeys.contains(key) { return value }
        }
        switch value {
        case .string(let text):
            return .string(digits(text))
        case .number(let literal):
            let masked = digits(literal)
            return masked == literal ? value : .string(masked)
        case .array(let elements):
            return .array(elements.map { mask($0) })
        case .object(let object):
            var result = object
            for member in object { result[member.key] = mask(member.value, key: member.key) }
            return .object(result)
        case .null, .bool:
            return value
        }
    }

    /// `4111111111111111` → `************1111`; shorter runs stay.
    package static func digits(_ text: String) -> String {
        var out = ""
        var run = ""
        func flush() {
            out += run.count >= 12 ? String(repeating: "*", count: run.count - 4) + run.suffix(4) : run
            run = ""
        }
        for character in text {
            if character.isASCII, character.isNumber {
                run.append(character)
            } else {
                flush()
                out.append(character)
            }
        }
        flush()
        return out
    }
}
