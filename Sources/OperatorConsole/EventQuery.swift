import Foundation
import Inbox
import Webhooks

/// The criteria of `events list` and of the console's Events page: one
/// meaning for both, so a filter typed in a terminal and one picked in the
/// browser select the same events.
package struct EventQuery: Sendable, Equatable {
    package var status: Int?
    package var kind: EventKind?
    package var merchant: Int64?
    package var orderNo: String?
    package var state: StateChoice?
    /// Dead letters only (same as `state: .dead`).
    package var dead = false
    /// Received at or after: ISO 8601 or an age (``TimeExpression``).
    package var since: String?
    /// Received before: same forms as `since`.
    package var until: String?
    package var limit: Int?

    package init() {}

    /// A stored state, or `held`: unfinished behind an earlier event of its
    /// order (see ``HeldEvents``), which listings show apart from `pending`.
    package enum StateChoice: String, Sendable, CaseIterable {
        case pending, held, processing, completed
        case waitingRetry = "waiting-retry"
        case dead

        /// The stored states to ask the store for.
        package var stored: Set<EventStateName> {
            switch self {
            case .held: HeldEvents.unfinished
            case .pending: [.pending]
            case .processing: [.processing]
            case .completed: [.completed]
            case .waitingRetry: [.waitingRetry]
            case .dead: [.dead]
            }
        }
    }

    /// Contradictions and unreadable times, with the option names of the
    /// command line (`--since`); the console shows the same words.
    package func problem() -> String? {
        if dead, let state, state != .dead { return "--dead and --state \(state.rawValue) contradict" }
        if let limit, limit < 1 { return "--limit must be at least 1" }
        if let since, TimeExpression.date(since) == nil { return "--since: cannot read '\(since)' as a time" }
        if let until, TimeExpression.date(until) == nil { return "--until: cannot read '\(until)' as a time" }
        return nil
    }

    /// Whether any criterion narrows the selection.
    package var narrows: Bool {
        status != nil || kind != nil || merchant != nil || orderNo != nil || state != nil || dead || since != nil
            || until != nil || limit != nil
    }

    package var filter: EventFilter {
        EventFilter(
            states: dead ? [.dead] : state.map(\.stored), kinds: kind.map { [$0] }, merchantID: merchant,
            orderNo: orderNo, status: status, receivedFrom: since.flatMap { TimeExpression.date($0) },
            receivedBefore: until.flatMap { TimeExpression.date($0) }, limit: limit)
    }

    /// The matching events, oldest first, and for each held one the id of
    /// the event it waits behind.
    package func run(on store: any InboxAdministration) async throws -> (events: [InboxEvent], heldBehind: [String: String]) {
        var filter = filter
        // pending and held are told apart here, so the limit is applied after.
        let apart = state == .pending || state == .held
        if apart { filter.limit = nil }
        var events = try await store.list(filter)
        let held = try await HeldEvents.holders(of: events, in: store, narrowedBy: filter)
        if apart {
            events = events.filter { (held[$0.id] != nil) == (state == .held) }
            if let limit { events = Array(events.prefix(limit)) }
        }
        return (events, held)
    }
}

extension EventQuery {
    /// One page of the matching events, newest first, with the total. The
    /// store does the paging, except for `pending` and `held`, which are told
    /// apart here from the (unfinished, so few) events of both.
    package func page(_ number: Int, size: Int, on store: any InboxAdministration) async throws
        -> (events: [InboxEvent], heldBehind: [String: String], total: Int)
    {
        let skipped = (max(1, number) - 1) * size
        if state == .pending || state == .held {
            let (all, held) = try await run(on: store)
            return (Array(all.reversed().dropFirst(skipped).prefix(size)), held, all.count)
        }
        var page = filter
        page.newestFirst = true
        page.offset = skipped
        page.limit = size
        let events = try await store.list(page)
        let held = try await HeldEvents.holders(of: events, in: store, narrowedBy: filter)
        return (events, held, try await store.count(filter))
    }
}

/// `--since`/`--until` values: ISO 8601 (`2025-08-05T16:43:55Z`,
/// `2025-08-05`) or an age before now (`30m`, `24h`, `7d`).
package enum TimeExpression {
    package static func date(_ text: String, now: Date = Date()) -> Date? {
        if let last = text.last, let unit = ["s": 1.0, "m": 60, "h": 3600, "d": 86400][String(last)],
           let amount = Double(text.dropLast()), amount >= 0
        {
            return now.addingTimeInterval(-amount * unit)
        }
        let formatter = ISO8601DateFormatter()
        for options: ISO8601DateFormatter.Options in [
            [.withInternetDateTime, .withFractionalSeconds], [.withInternetDateTime], [.withFullDate],
        ] {
            formatter.formatOptions = options
            if let date = formatter.date(from: text) { return date }
        }
        return nil
    }
}
