/// Where an inbox event came from.
///
/// A callback is signed by TrustPay; an order-query event was recorded from
/// the answer of TrustPay's Order Query API (reconciliation), which carries
/// no signature and is trusted because it came over HTTPS from the
/// provider's host. Handlers can tell them apart.
public enum EventSource: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// A callback TrustPay posted, its signature verified.
    case callback
    /// The answer of the Order Query API: the status a callback would have told.
    case orderQuery = "order-query"

    public var description: String { rawValue }
}
