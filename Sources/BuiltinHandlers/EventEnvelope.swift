import Foundation
import TrustPay

/// A verified event as the built-in handlers see and publish it: the same
/// JSON for the `jsonl` file, the `forward` POST body and `exec`'s stdin.
package struct EventEnvelope: Sendable, Equatable {
    package var eventID: String
    /// `payment` or `card`.
    package var kind: String
    package var merchantID: Int64?
    package var orderNo: String
    /// Payments: `payin`/`payout` (or the raw code); cards: `OPEN_CARD`, `CARD_CHARGE`, …
    package var type: String
    package var status: Int
    package var previousStatus: Int?
    package var stale: Bool
    package var attempt: Int
    package var receivedAt: Date
    /// `callback`, or `order-query` when reconciliation recorded the status
    /// from TrustPay's Order Query API; `body` is then the API's answer.
    package var source: String
    /// The callback exactly as TrustPay sent it (valid JSON: it was parsed),
    /// or the Order Query answer.
    package var rawBody: [UInt8]

    package init(eventID: String, kind: String, merchantID: Int64?, orderNo: String, type: String, status: Int,
                previousStatus: Int?, stale: Bool, attempt: Int, receivedAt: Date, source: String = "callback",
                rawBody: [UInt8]) {
        self.eventID = eventID
        self.kind = kind
        self.merchantID = merchantID
        self.orderNo = orderNo
        self.type = type
        self.status = status
        self.previousStatus = previousStatus
        self.stale = stale
        self.attempt = attempt
        self.receivedAt = receivedAt
        self.source = source
        self.rawBody = rawBody
    }

    /// One line of compact JSON. The callback is embedded under `body` as
    /// TrustPay sent it, so amounts keep their exact digits, less the
    /// whitespace between its tokens: a body sent over several lines must
    /// not break a `jsonl` file into several.
    package func json() -> [UInt8] {
        var out = "{\"event_id\":\(quoted(eventID)),\"kind\":\(quoted(kind)),"
        out += "\"merchant_id\":\(merchantID.map(String.init) ?? "null"),\"order_no\":\(quoted(orderNo)),"
        out += "\"type\":\(quoted(type)),\"status\":\(status),"
        out += "\"previous_status\":\(previousStatus.map(String.init) ?? "null"),\"stale\":\(stale),"
        out += "\"attempt\":\(attempt),\"received_at\":\(quoted(Self.timestamp(receivedAt))),"
        out += "\"source\":\(quoted(source)),\"body\":"
        var bytes = Array(out.utf8)
        bytes.append(contentsOf: rawBody.isEmpty ? Array("null".utf8) : Self.singleLine(rawBody))
        bytes.append(UInt8(ascii: "}"))
        return bytes
    }

    /// `json` without whitespace outside its strings, and with any raw
    /// control byte inside a string escaped (strict JSON has none there, but
    /// no byte of the result may end a line). Only structure is touched:
    /// numbers and string contents are kept byte for byte.
    static func singleLine(_ json: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(json.count)
        var inString = false
        var escaped = false
        for byte in json {
            if inString {
                if escaped {
                    escaped = false
                } else if byte == UInt8(ascii: "\\") {
                    escaped = true
                } else if byte == UInt8(ascii: "\"") {
                    inString = false
                } else if byte < 0x20 {
                    let hex = Array("0123456789abcdef".utf8)
                    out.append(contentsOf: Array("\\u00".utf8) + [hex[Int(byte >> 4)], hex[Int(byte & 0xF)]])
                    continue
                }
                out.append(byte)
            } else {
                switch byte {
                case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\n"), UInt8(ascii: "\r"): continue
                case UInt8(ascii: "\""): inString = true
                default: break
                }
                out.append(byte)
            }
        }
        return out
    }

    /// RFC 3339 in UTC with milliseconds.
    static func timestamp(_ date: Date) -> String {
        let millis = Int64((date.timeIntervalSince1970 * 1000).rounded(.down))
        var seconds = time_t(millis / 1000)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func pad(_ value: Int32, _ width: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        return "\(pad(parts.tm_year + 1900, 4))-\(pad(parts.tm_mon + 1, 2))-\(pad(parts.tm_mday, 2))T"
            + "\(pad(parts.tm_hour, 2)):\(pad(parts.tm_min, 2)):\(pad(parts.tm_sec, 2)).\(pad(Int32(millis % 1000), 3))Z"
    }
}

/// JSON string quoting for the envelope's own fields: the same writer that
/// renders nested values for TrustPay signatures.
func quoted(_ text: String) -> String { JSONValue.string(text).compactJSON }

/// What a built-in handler does with an event; throwing means "retry later".
package protocol EventSink: Sendable {
    var name: String { get }
    func deliver(_ event: EventEnvelope) async throws
}

/// A built-in handler (sink) failed; the message is fit for logs and dead
/// letters, and the dispatcher records it as the attempt's error.
package struct SinkFailure: Error, Sendable, CustomStringConvertible {
    package var description: String
    package init(_ description: String) { self.description = description }
}
