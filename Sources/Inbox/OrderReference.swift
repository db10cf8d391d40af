/// One order, across all its status changes: payments by (merchant, order
/// type, `order_no`), card orders by (route merchant, card callback type,
/// `order_no`). The inbox keeps the last status seen per order. Opaque to
/// the inbox: `TrustPay` derives it (`PaymentCallback.orderReference`,
/// `CardCallback.orderReference(merchantID:)`).
public struct OrderReference: Sendable, Hashable, CustomStringConvertible {
    /// Compared byte for byte, as the databases compare it, hashed once
    /// (see ``HashedText``).
    let hashed: HashedText

    public var rawValue: String { hashed.text }

    public init(rawValue: String) { hashed = HashedText(rawValue) }

    public var description: String { rawValue }
}
