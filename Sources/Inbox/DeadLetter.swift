import Foundation

/// An event whose handlers failed on every attempt of the retry schedule.
/// It stays in the inbox, queryable and replayable, until replayed or purged.
public struct DeadLetter: Sendable, Equatable, CustomStringConvertible {
    public let event: InboxEvent
    /// The error of the last attempt.
    public let error: String
    public let diedAt: Date

    /// `nil` unless `event` is dead.
    public init?(_ event: InboxEvent) {
        guard case .dead(let at) = event.state else { return nil }
        self.event = event
        self.error = event.lastError ?? "unknown error"
        self.diedAt = at
    }

    public var description: String {
        "DeadLetter(\(event.id), \(event.kind) order \(event.orderNo), status \(event.status), "
            + "after \(event.attempts) attempts: \(error))"
    }
}
