import Foundation
import Inbox
import TrustPay
import Webhooks

/// Everything `events show` and the console's Event page tell about one
/// event: the list fields, `finished_at` (when it completed or became a dead
/// letter), its history (``EventHistoryRendering``: `attempt_history`,
/// `attempts_kept`, `conflicting_copies`), then `body` with card numbers and
/// CVVs masked.
package enum EventDetail {
    package static func object(_ event: InboxEvent, in store: any InboxAdministration) async throws -> JSONObject {
        let held = try await HeldEvents.holders(
            of: [event], in: store,
            narrowedBy: EventFilter(kinds: [event.kind], merchantID: event.merchantID, orderNo: event.orderNo))
        var object = EventRendering.summary(event, heldBehind: held[event.id])
        object["finished_at"] = finishedAt(event.state).map { .string(EventRendering.timestamp($0)) } ?? .null
        for member in EventHistoryRendering.object(try await store.history(id: event.id), of: event) {
            object[member.key] = member.value
        }
        object["body"] = CardDataMask.body(event.rawBody)
        return object
    }

    /// The members ``EventHistoryRendering/text(_:)`` prints as sections of their own.
    package static let historyKeys: Set<String> = ["attempt_history", "attempts_kept", "conflicting_copies"]

    private static func finishedAt(_ state: EventState) -> Date? {
        switch state {
        case .completed(let at), .dead(let at): at
        case .pending, .processing, .waitingRetry: nil
        }
    }
}
