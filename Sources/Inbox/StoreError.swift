/// Why an ``IdempotencyStore`` could not do what was asked.
///
/// The pipeline answers `503` to any store failure while recording, so
/// TrustPay delivers again later: nothing is acknowledged that was not stored.
public enum StoreError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The store cannot be reached (database down, disk full, connection lost).
    case unavailable(String)
    /// A bounded store is full of events that may not be evicted yet
    /// (pending, in progress, or dead letters).
    case full(capacity: Int)

    public var description: String {
        switch self {
        case .unavailable(let reason): "the event store is unavailable: \(reason)"
        case .full(let capacity): "the event store is full (\(capacity) events not yet completed)"
        }
    }
}
