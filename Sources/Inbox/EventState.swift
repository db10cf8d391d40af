import Foundation

/// Where an inbox event is in its life.
///
/// ```
/// pending ──claim──▶ processing ──complete──▶ completed
///    ▲                 │    │
///    │        fail ◀───┘    └──dead-letter──▶ dead
///    │          │                               │
///    │  waitingRetry ──(due)──▶ claimable        │
///    └──────────────── replay ◀─────────────────┘
/// ```
/// A `processing` event whose lease has run out is claimable again: its
/// worker is presumed dead.
public enum EventState: Sendable, Equatable, CustomStringConvertible {
    /// Stored, no handler has run yet.
    case pending
    /// A worker holds it until `leaseUntil`.
    case processing(owner: String, leaseUntil: Date)
    /// Every handler succeeded.
    case completed(at: Date)
    /// A handler failed; the next attempt is due at `nextAttemptAt`.
    case waitingRetry(nextAttemptAt: Date)
    /// The retry schedule is exhausted; kept until replayed or purged.
    case dead(at: Date)

    public var name: EventStateName {
        switch self {
        case .pending: .pending
        case .processing: .processing
        case .completed: .completed
        case .waitingRetry: .waitingRetry
        case .dead: .dead
        }
    }

    /// Whether a worker may claim the event at `now`.
    public func isClaimable(at now: Date) -> Bool {
        switch self {
        case .pending: true
        case .processing(_, let leaseUntil): leaseUntil <= now
        case .waitingRetry(let due): due <= now
        case .completed, .dead: false
        }
    }

    /// Whether handlers may still run: pending, processing or waiting to
    /// retry. An unfinished event holds back the later events of its order.
    public var isUnfinished: Bool {
        switch self {
        case .pending, .processing, .waitingRetry: true
        case .completed, .dead: false
        }
    }

    public var description: String {
        switch self {
        case .pending: "pending"
        case .processing(let owner, let until): "processing by \(owner) until \(until)"
        case .completed(let at): "completed at \(at)"
        case .waitingRetry(let due): "waiting to retry at \(due)"
        case .dead(let at): "dead since \(at)"
        }
    }
}

/// An ``EventState`` without its details, for filters and columns.
public enum EventStateName: String, Sendable, Hashable, CaseIterable {
    case pending, processing, completed
    case waitingRetry = "waiting-retry"
    case dead
}
