/// When a callback route answers TrustPay.
public enum DispatchMode: String, Sendable, Hashable, CaseIterable {
    /// Answer `200` once the event is stored; workers run the handlers
    /// afterwards, retrying on failure. The default: TrustPay is never kept
    /// waiting on merchant code.
    case afterStore = "after-store"
    /// Answer `200` only when every handler succeeded within the handler
    /// timeout, else `500` so TrustPay delivers again. A repeat arriving while
    /// the first copy is still running waits for it, or gets `409`; it never
    /// runs the handlers a second time concurrently.
    case afterHandler = "after-handler"
}
