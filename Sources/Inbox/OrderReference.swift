/// One order, across all its status changes: payments by (merchant, order
/// type, `order_no`), card orders by (route merchant, card callback type,
/// `order_no`). The inbox keeps the last status seen per order. Opaque to
/// the inbox: `TrustPay` derives it (`PaymentCallback.orderReference`,
/// `CardCallback.orderReference(merchantID:)`).
public struct OrderReference: Sendable, Hashable, CustomStringConvertible {
    public let rawValue: String

    public init(rawValue: String) { self.rawValue = rawValue }

    public var description: String { rawValue }

    // Byte for byte, as the databases compare it (see `IdempotencyKey`).
    public static func == (a: OrderReference, b: OrderReference) -> Bool { utf8Equal(a.rawValue, b.rawValue) }
    public func hash(into hasher: inout Hasher) { hashUTF8(rawValue, into: &hasher) }
}
