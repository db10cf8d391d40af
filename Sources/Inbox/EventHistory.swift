import Foundation

/// One run of an event's handlers as the inbox keeps it, for an operator
/// asking what happened: ``InboxAdministration/history(id:)``.
public struct HandlerAttempt: Sendable, Equatable, CustomStringConvertible {
    /// How a run ended, as the dispatcher tells them apart.
    public enum Outcome: String, Sendable, CaseIterable {
        /// Every handler returned.
        case handled
        /// A handler threw, or the stored body no longer decodes.
        case failed
        /// The handlers did not finish within the handler timeout.
        case timedOut = "timed-out"
        /// The run ended after its lease had passed to another owner (or
        /// was not held at all), so its result was not recorded: the event
        /// runs, or ran, again.
        case leaseLost = "lease-lost"
    }

    /// The attempt's number as its handlers saw it (`DeliveryAttempt.number` in `Webhooks`):
    /// 1 for the first run, counted afresh after a replay.
    public var number: Int
    public var startedAt: Date
    public var endedAt: Date
    public var outcome: Outcome
    /// The failure as the dispatcher renders it (`HandlerFailure`), the
    /// text also kept as the event's last error: never a secret.
    public var error: String?

    public init(number: Int, startedAt: Date, endedAt: Date, outcome: Outcome, error: String? = nil) {
        self.number = number
        self.startedAt = startedAt
        self.endedAt = endedAt
        self.outcome = outcome
        self.error = error
    }

    public var description: String {
        "attempt \(number) \(outcome.rawValue)\(error.map { ": \($0)" } ?? "")"
    }

    /// The same attempt as a store keeps it when the lease was lost at its end.
    func leaseLost() -> HandlerAttempt {
        var attempt = self
        attempt.outcome = .leaseLost
        return attempt
    }
}

/// A callback with a stored event's key but other signed content (a
/// conflict), kept as it arrived so that an operator can see how it differs.
/// It passed signature verification like any callback the inbox records.
public struct ConflictingCopy: Sendable, Equatable, CustomStringConvertible {
    public var contentHash: String
    /// The body exactly as posted (the server bounds its size).
    public var rawBody: [UInt8]
    public var receivedAt: Date

    public init(contentHash: String, rawBody: [UInt8], receivedAt: Date) {
        self.contentHash = contentHash
        self.rawBody = rawBody
        self.receivedAt = receivedAt
    }

    /// Leaves out the body, which may hold card data.
    public var description: String { "ConflictingCopy(hash \(contentHash), \(rawBody.count) bytes)" }
}

/// What an inbox remembers of one event beyond its row: its handler runs and
/// the conflicting copies that arrived for it. Bounded, so that a poisoned
/// event or a provider resending changed bodies cannot grow it without limit;
/// the counts on ``InboxEvent`` (`attempts`, `conflicts`) stay exact. It goes
/// with its event when the event is purged or pruned.
public struct EventHistory: Sendable, Equatable {
    /// The most recent attempts kept per event.
    public static let attemptsKept = 50
    /// The first distinct conflicting copies kept per event.
    public static let copiesKept = 10

    /// The last ``attemptsKept`` attempts, oldest first.
    public var attempts: [HandlerAttempt]
    /// The first ``copiesKept`` copies with distinct content, in order of arrival.
    public var conflictingCopies: [ConflictingCopy]

    public init(attempts: [HandlerAttempt] = [], conflictingCopies: [ConflictingCopy] = []) {
        self.attempts = attempts
        self.conflictingCopies = conflictingCopies
    }
}
