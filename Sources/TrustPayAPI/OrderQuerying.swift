// TrustPay's merchant API, as the server calls it: the Order Query, signed by
// the callbacks' rule, over AsyncHTTPClient, with timeouts, retries and a
// bounded rate and concurrency per merchant. The wire types live in
// `TrustPay` (OrderQuery/); this module only moves them.
import TrustPay

/// Asks TrustPay for an order's current state. The reconciliation sweep
/// depends on this protocol, so tests can stand a fake in for the network.
public protocol OrderQuerying: Sendable {
    /// The order's current state, or why it could not be had.
    ///
    /// An unknown order is ``TrustPayAPIError/provider(code:message:)`` with a
    /// non-success code, as the provider reports it.
    func queryOrder(orderNo: String, merchantID: Int64) async throws(TrustPayAPIError) -> OrderQueryAnswer
}
