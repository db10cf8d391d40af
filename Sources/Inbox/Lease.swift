/// A claim on an event for a while: whoever holds it runs the handlers; when
/// it runs out unfinished, the event is claimable by someone else.
public struct Lease: Sendable, Equatable {
    /// Who holds it: a worker, a replica, or a request answering after its handlers.
    public var owner: String
    public var duration: Duration

    public init(owner: String, duration: Duration) {
        self.owner = owner
        self.duration = duration
    }
}
