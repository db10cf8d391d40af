import Foundation
import Inbox
import Webhooks

/// `events retry-dead` and the console's "retry all" / "retry selected":
/// dead letters made pending again, so the workers run their handlers afresh.
package enum DeadLetterRetry {
    /// Replays every dead letter `filter` matches (its states are ignored).
    package static func replay(matching filter: EventFilter, in store: any InboxAdministration, now: Date = Date())
        async throws -> Int
    {
        var filter = filter
        filter.states = [.dead]
        return try await replay(try await store.list(filter), in: store, now: now)
    }

    /// Replays those of `ids` that are dead letters; others are left alone,
    /// so a stale selection in a browser cannot replay a completed event.
    package static func replay(ids: [String], in store: any InboxAdministration, now: Date = Date()) async throws -> Int {
        var dead: [InboxEvent] = []
        for id in Set(ids) {
            if let event = try await store.event(id: id), event.state.name == .dead { dead.append(event) }
        }
        return try await replay(dead, in: store, now: now)
    }

    private static func replay(_ events: [InboxEvent], in store: any InboxAdministration, now: Date) async throws -> Int {
        var replayed = 0
        for event in events where try await store.replay(id: event.id, now: now) != nil {
            replayed += 1
        }
        return replayed
    }
}
