import Foundation
import Inbox

/// Which run of an event's handlers this is, and what the inbox knew when
/// the event arrived. Handlers run at least once: use ``eventID`` to make
/// their effects idempotent.
public struct DeliveryAttempt: Sendable, Equatable, CustomStringConvertible {
    /// The inbox event id: the same on every attempt and every redelivery.
    public let eventID: String
    /// 1 for the first run, 2 for the first retry, …
    public let number: Int
    public let receivedAt: Date

    public init(eventID: String, number: Int, receivedAt: Date) {
        self.eventID = eventID
        self.number = number
        self.receivedAt = receivedAt
    }

    public var description: String { "event \(eventID) attempt \(number)" }
}

/// What every event a handler receives carries: which attempt this is and
/// where the event came from. ``PaymentEvent`` and ``CardEvent`` differ only
/// in their callback and what the order's history tells.
public protocol HandlerEvent: Sendable {
    var attempt: DeliveryAttempt { get }
    var source: EventSource { get }
}

extension HandlerEvent {
    /// The inbox event id (``DeliveryAttempt/eventID``): the key for idempotent effects.
    public var eventID: String { attempt.eventID }
    public var receivedAt: Date { attempt.receivedAt }
}
