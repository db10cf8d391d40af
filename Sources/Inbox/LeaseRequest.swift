/// Whether ``IdempotencyStore/record(_:lease:now:)`` leases the event it
/// stores, and on what condition. A repeat (`.duplicate`, `.conflict`) is
/// never leased, whatever the request.
public enum LeaseRequest: Sendable, Equatable {
    /// Stored `pending`: a worker claims it (``IdempotencyStore/claimDue(owner:limit:leaseDuration:now:)``).
    case none
    /// Stored `processing` under the lease (attempt 1) whatever else of its
    /// order is unfinished: a request that answers after its handlers runs
    /// them itself, at once.
    case always(Lease)
    /// Stored `processing` under the lease (attempt 1) only if no earlier
    /// event of its order is unfinished, decided in the same atomic write;
    /// otherwise `pending` behind them, for `claimDue` to take in order. The
    /// dispatch workers of the process that records the event run it
    /// without claiming it again (one write per callback).
    case ifFirstOfOrder(Lease)

    /// The lease asked for, if any.
    public var lease: Lease? {
        switch self {
        case .none: nil
        case .always(let lease), .ifFirstOfOrder(let lease): lease
        }
    }
}
