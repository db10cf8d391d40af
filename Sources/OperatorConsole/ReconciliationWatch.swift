import Durations
import Foundation
import Inbox
import TrustPay
import Webhooks

/// What the Overview needs to count the orders waiting for reconciliation:
/// the same choice the sweep makes (`reconcile.final_statuses`, `after`,
/// `max_age`), asked of the store when the page polls, so every replica
/// shows the shared inbox's number rather than its own last sweep's.
package struct ReconciliationWatch: Sendable {
    package var finalStatuses: Set<Int>
    package var after: Duration
    package var maxAge: Duration

    /// Counted up to this many; the page says "at least" beyond it.
    static let countLimit = 1000

    package init(finalStatuses: Set<Int>, after: Duration, maxAge: Duration) {
        self.finalStatuses = finalStatuses
        self.after = after
        self.maxAge = maxAge
    }

    /// `null` when reconciliation is off or the store cannot reconcile.
    func overview(_ store: any InboxAdministration, now: Date) async throws -> JSONValue {
        guard let store = store as? any ReconciliationStore else { return .null }
        let waiting = try await store.reconciliationCandidates(
            finalStatuses: finalStatuses, quietSince: now.addingTimeInterval(-after.seconds),
            notBefore: now.addingTimeInterval(-maxAge.seconds), limit: Self.countLimit)
        let expected = waiting.filter { $0.reason == .expected }.count
        var oldest = JSONValue.null
        if let first = waiting.min(by: { $0.since < $1.since }) {
            let fields: JSONObject = [
                "order_no": .string(first.orderNo), "merchant_id": .integer(first.merchantID),
                "since": .string(EventRendering.timestamp(first.since)), "reason": .string(first.reason.rawValue),
            ]
            oldest = .object(fields)
        }
        let summary: JSONObject = [
            "waiting": .integer(waiting.count), "capped": .bool(waiting.count >= Self.countLimit),
            "expected_without_callback": .integer(expected), "oldest": oldest,
        ]
        return .object(summary)
    }
}
