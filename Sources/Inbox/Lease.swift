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

extension Lease {
    /// The shortest lease for handlers that may run `handlerTimeout`: twice
    /// it. A lease is not renewed, and a claim can come back late (a slow
    /// store, a busy process): with less, another worker or replica could
    /// start an event whose handlers still run. The one rule: the library
    /// warns below it and the configuration refuses it.
    public static func minimumDuration(forHandlerTimeout handlerTimeout: Duration) -> Duration {
        handlerTimeout * 2
    }
}
