import TrustPay

/// One order, across all its status changes: payments by (merchant, order
/// type, `order_no`), card orders by (route merchant, card callback type,
/// `order_no`). The inbox keeps the last status seen per order.
public struct OrderReference: Sendable, Hashable, CustomStringConvertible {
    public let rawValue: String

    public init(rawValue: String) { self.rawValue = rawValue }

    public static func payment(_ callback: PaymentCallback) -> OrderReference {
        payment(merchantID: callback.merchantID, type: callback.type, orderNo: callback.orderNo)
    }

    /// A payin or payout order, as reconciliation names the orders it queries.
    public static func payment(merchantID: Int64, type: OrderType, orderNo: String) -> OrderReference {
        let parts: [JSONValue] = ["payment", .integer(merchantID), .integer(type.rawValue), .string(orderNo)]
        return OrderReference(rawValue: JSONValue.array(parts).compactJSON)
    }

    public static func card(_ callback: CardCallback, merchantID: Int64) -> OrderReference {
        let parts: [JSONValue] = ["card", .integer(merchantID), .string(callback.kind.rawValue), .string(callback.orderNo)]
        return OrderReference(rawValue: JSONValue.array(parts).compactJSON)
    }

    public var description: String { rawValue }

    // Byte for byte, as the databases compare it (see `IdempotencyKey`).
    public static func == (a: OrderReference, b: OrderReference) -> Bool { a.rawValue.utf8.elementsEqual(b.rawValue.utf8) }
    public func hash(into hasher: inout Hasher) { hashUTF8(rawValue, into: &hasher) }
}
