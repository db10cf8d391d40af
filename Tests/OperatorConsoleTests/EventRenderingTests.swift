import Foundation
import Inbox
import Testing
import TrustPay
import Webhooks

import OperatorConsole

@Suite struct EventRenderingTests {
    static let event = InboxEvent(
        id: "0b5c1d9e-0000-4000-8000-000000000001",
        key: IdempotencyKey(rawValue: "k"), contentHash: "h", kind: .payment, merchantID: 8820250900009,
        orderType: 0, orderNo: "ORD-7", status: 7, order: OrderReference(rawValue: "o"), previousStatus: 5,
        isStale: false, rawBody: Array(#"{"order_no":"ORD-7","status":7}"#.utf8),
        receivedAt: Date(timeIntervalSince1970: 1_754_412_235), state: .dead(at: Date()), attempts: 8,
        lastError: "handler jsonl: disk full", conflicts: 1)

    @Test func listJSONHasOneFieldPerColumnWithISO8601Times() throws {
        let summary = EventRendering.summary(Self.event)
        #expect(summary.keys == [
            "id", "kind", "merchant_id", "order_no", "order_type", "status", "state", "attempts", "last_error",
            "received_at", "previous_status", "stale", "conflicts", "next_attempt_at", "source",
        ])
        #expect(summary["source"] == "callback")
        #expect(summary["state"] == "dead")
        #expect(summary["received_at"] == "2025-08-05T16:43:55.000Z")
        #expect(summary["previous_status"] == .integer(5))
        #expect(summary["last_error"] == "handler jsonl: disk full")
    }

    @Test func tableHasAHeaderAndOneRowPerEvent() {
        let lines = EventRendering.table([Self.event]).split(separator: "\n")
        #expect(lines.count == 2)
        #expect(lines[0].hasPrefix("ID"))
        #expect(lines[1].contains("ORD-7") && lines[1].contains("after 5") && lines[1].contains("1 conflict"))
        #expect(EventRendering.table([]) == "no events\n")
    }
}
