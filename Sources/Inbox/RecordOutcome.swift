/// What ``IdempotencyStore/record(_:lease:now:)`` did.
public enum RecordOutcome: Sendable, Equatable {
    /// The key was new: the event is stored, `processing` if it was leased
    /// (see ``LeaseRequest``), `pending` otherwise.
    case recorded(InboxEvent)
    /// The key was known with the same content hash: nothing changed.
    case duplicate(InboxEvent)
    /// The key was known with another content hash: the stored event is
    /// unchanged except for its conflict count, which the returned copy
    /// already includes.
    case conflict(InboxEvent)

    /// The stored event.
    public var event: InboxEvent {
        switch self {
        case .recorded(let event), .duplicate(let event), .conflict(let event): event
        }
    }
}
