import Foundation
import TrustPay
import Webhooks

/// How the `events` commands print events.
enum EventRendering {
    /// The fields of `events list --json`, in a fixed order.
    static func summary(_ event: InboxEvent) -> JSONObject {
        [
            "id": .string(event.id),
            "kind": .string(event.kind.rawValue),
            "merchant_id": .integer(event.merchantID),
            "order_no": .string(event.orderNo),
            "order_type": event.orderType.map { .integer($0) } ?? .null,
            "status": .integer(event.status),
            "state": .string(event.state.name.rawValue),
            "attempts": .integer(event.attempts),
            "last_error": event.lastError.map { .string($0) } ?? .null,
            "received_at": .string(timestamp(event.receivedAt)),
            "previous_status": event.previousStatus.map { .integer($0) } ?? .null,
            "stale": .bool(event.isStale),
            "conflicts": .integer(event.conflicts),
            "next_attempt_at": nextAttempt(event.state).map { .string(timestamp($0)) } ?? .null,
        ]
    }

    static func timestamp(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: date)
    }

    private static func nextAttempt(_ state: EventState) -> Date? {
        if case .waitingRetry(let due) = state { due } else { nil }
    }

    /// A fixed-width table with a header line; a note when there is nothing.
    static func table(_ events: [InboxEvent]) -> String {
        guard !events.isEmpty else { return "no events\n" }
        let header = ["ID", "KIND", "MERCHANT", "ORDER NO", "TYPE", "STATUS", "STATE", "ATTEMPTS", "RECEIVED", "NOTES"]
        let rows = events.map { event -> [String] in
            var notes: [String] = []
            if let previous = event.previousStatus { notes.append("after \(previous)") }
            if event.isStale { notes.append("stale") }
            if event.conflicts > 0 { notes.append("\(event.conflicts) conflict\(event.conflicts == 1 ? "" : "s")") }
            if let error = event.lastError { notes.append("error: \(error.prefix(60))") }
            return [
                event.id, event.kind.rawValue, String(event.merchantID), event.orderNo,
                event.orderType.map(String.init) ?? "-", String(event.status), event.state.name.rawValue,
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

/// Hides card data in bodies shown to an operator: digit runs of 12 or more
/// (card numbers) keep only their last four digits, and `cvv`/`card_cvv`
/// values are replaced whole. `merchant_id` is shown as is: it is not card
/// data, and it is printed beside the body anyway.
enum CardDataMask {
    static let cvvKeys: Set<String> = ["cvv", "card_cvv", "cardcvv", "cvv2", "cvc"]
    static let exemptKeys: Set<String> = ["merchant_id", "merchantId"]

    /// The masked body: its JSON value, or a string when it is not JSON.
    static func body(_ raw: [UInt8]) -> JSONValue {
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
    static func digits(_ text: String) -> String {
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
