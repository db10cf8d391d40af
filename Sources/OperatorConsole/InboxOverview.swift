import Foundation
import Inbox
import TrustPay
import Webhooks

/// The Overview page's numbers, from the store itself, so every replica
/// showing it agrees with the shared inbox (not with one process's
/// counters). The page polls it, so it never lists the whole inbox: states
/// are counted by the store, and only the unfinished events, the dead
/// letters and the last hour's callbacks are read.
enum InboxOverview {
    static let minutes = 60

    static func object(
        _ store: any InboxAdministration, storeAvailable: Bool, reconciliation: ReconciliationWatch? = nil, now: Date
    ) async throws -> JSONObject {
        var counts: [String: Int] = [:]
        for state in EventStateName.allCases {
            counts[state.rawValue] = try await store.count(EventFilter(states: [state]))
        }
        let unfinished = try await store.list(EventFilter(states: HeldEvents.unfinished))
        let held = HeldEvents.holders(inOrderOfReceipt: unfinished)
        for event in unfinished where held[event.id] != nil {
            counts[event.state.name.rawValue, default: 0] -= 1
            counts["held", default: 0] += 1
        }
        let dead = try await store.list(.deadLetters)
        let hourAgo = Date(timeIntervalSince1970: (start(now) * 60))
        let recent = try await store.list(EventFilter(receivedFrom: hourAgo))
        // Conflicts and stale events worth a look: the open ones and the last hour's.
        var watched: [String: InboxEvent] = [:]
        for event in unfinished + dead + recent { watched[event.id] = event }

        let oldest = unfinished.first { held[$0.id] == nil && $0.state.name == .pending } ?? unfinished.first
        var states = JSONObject()
        for state in EventQuery.StateChoice.allCases { states[state.rawValue] = .integer(counts[state.rawValue, default: 0]) }
        return [
            "generated_at": .string(EventRendering.timestamp(now)),
            "store": .string(storeAvailable ? "available" : "unavailable"),
            "states": .object(states),
            "backlog": .integer(unfinished.count),
            "oldest_pending": oldest.map { .object(EventRendering.summary($0, heldBehind: held[$0.id])) } ?? .null,
            "dead_letters": .integer(counts[EventStateName.dead.rawValue, default: 0]),
            "conflicts": .integer(watched.values.reduce(0) { $0 + $1.conflicts }),
            "events_with_conflicts": .integer(watched.values.filter { $0.conflicts > 0 }.count),
            "stale": .integer(watched.values.filter(\.isStale).count),
            "per_minute": .array(perMinute(recent, now: now)),
            "reconciliation": try await reconciliation?.overview(store, now: now) ?? .null,
        ]
    }

    /// The first minute of the chart, in minutes since 1970.
    private static func start(_ now: Date) -> Double {
        (now.timeIntervalSince1970 / 60).rounded(.down) + 1 - Double(minutes)
    }

    /// The last hour, oldest minute first: callbacks acknowledged (stored)
    /// and, of those, handled (completed) in each minute. A replay of an
    /// older event is not drawn.
    static func perMinute(_ events: [InboxEvent], now: Date) -> [JSONValue] {
        let start = start(now)
        var acknowledged = [Int](repeating: 0, count: minutes)
        var handled = [Int](repeating: 0, count: minutes)
        func bucket(_ date: Date) -> Int? {
            let minute = (date.timeIntervalSince1970 / 60).rounded(.down) - start
            return minute >= 0 && minute < Double(minutes) ? Int(minute) : nil
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
