import Foundation
import TrustPay
import Webhooks

/// The Overview page's numbers, worked out from one listing of the inbox, so
/// every replica showing it agrees with the shared store (not with one
/// process's counters). Completed events are pruned after
/// `store.keep_completed`, which bounds what the listing reads.
enum InboxOverview {
    static let minutes = 60

    static func object(_ events: [InboxEvent], storeAvailable: Bool, now: Date) -> JSONObject {
        let held = HeldEvents.holders(inOrderOfReceipt: events)
        var states: [String: Int] = [:]
        for event in events {
            states[held[event.id] == nil ? event.state.name.rawValue : "held", default: 0] += 1
        }
        let unfinished = events.filter { $0.state.isUnfinished }
        let oldest = unfinished.first { held[$0.id] == nil && $0.state.name == .pending } ?? unfinished.first
        var object: JSONObject = [
            "generated_at": .string(EventRendering.timestamp(now)),
            "store": .string(storeAvailable ? "available" : "unavailable"),
            "total": .integer(events.count),
            "backlog": .integer(unfinished.count),
            "oldest_pending": oldest.map { .object(EventRendering.summary($0, heldBehind: held[$0.id])) } ?? .null,
            "dead_letters": .integer(states[EventStateName.dead.rawValue, default: 0]),
            "conflicts": .integer(events.reduce(0) { $0 + $1.conflicts }),
            "events_with_conflicts": .integer(events.filter { $0.conflicts > 0 }.count),
            "stale": .integer(events.filter(\.isStale).count),
        ]
        var counts = JSONObject()
        for state in EventQuery.StateChoice.allCases { counts[state.rawValue] = .integer(states[state.rawValue, default: 0]) }
        object["states"] = .object(counts)
        object["per_minute"] = .array(perMinute(events, now: now))
        return object
    }

    /// The last hour, oldest minute first: callbacks acknowledged (stored)
    /// and events handled (completed) in each minute.
    static func perMinute(_ events: [InboxEvent], now: Date) -> [JSONValue] {
        let end = (now.timeIntervalSince1970 / 60).rounded(.down) + 1
        let start = end - Double(minutes)
        var acknowledged = [Int](repeating: 0, count: minutes)
        var handled = [Int](repeating: 0, count: minutes)
        func bucket(_ date: Date) -> Int? {
            let minute = (date.timeIntervalSince1970 / 60).rounded(.down)
            return minute >= start && minute < end ? Int(minute - start) : nil
        }
        for event in events {
            if let index = bucket(event.receivedAt) { acknowledged[index] += 1 }
            if case .completed(let at) = event.state, let index = bucket(at) { handled[index] += 1 }
        }
        return (0..<minutes).map { index in
            .object([
                "minute": .string(EventRendering.timestamp(Date(timeIntervalSince1970: (start + Double(index)) * 60))),
                "acknowledged": .integer(acknowledged[index]),
                "handled": .integer(handled[index]),
            ])
        }
    }
}
