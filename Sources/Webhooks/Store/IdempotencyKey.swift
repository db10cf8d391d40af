import TrustPay

/// What makes two callbacks "the same event".
///
/// - Payments: merchant, order type, `order_no`, status and the set of refund
///   numbers (a payin refunded twice reports status 8 with one and then two
///   refund numbers: two events).
/// - Card callbacks: the merchant of the route it arrived on, the card
///   callback `type`, `order_no` and status.
///
/// Every part comes from what the signature covers: the typed fields of an
/// `AuthenticCallback`, which `CallbackAuthenticator` proves write back into
/// the verified text byte for byte, so a part is its canonical rendering
/// (`merchant_id` and `status` as their signed integer literals). An absent
/// payment `type` is payin, `0`, as its empty value is. Refund numbers are
/// sorted: the same set in another order is the same refund state.
///
/// The raw value is the compact JSON array of those parts, so no separator
/// inside an order number can make two keys collide. Stores index it uniquely.
public struct IdempotencyKey: Sendable, Hashable, CustomStringConvertible {
    public let rawValue: String

    public init(rawValue: String) { self.rawValue = rawValue }

    /// The key of a payment callback, or of an Order Query answer read as
    /// one (`PaymentCallback(orderQueryAnswer:)`: no refund numbers, so its
    /// key is the callback's for every status that carries none).
    ///
    /// An Order Query answer cannot tell refund numbers, so a reconciled
    /// event and a callback of one order and status are matched by the store
    /// on (order, status) as well (see ``IdempotencyStore/record(_:lease:now:)``).
    public static func payment(_ callback: PaymentCallback) -> IdempotencyKey {
        let refunds = callback.merchantRefundNos.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        let parts: [JSONValue] = [
            "payment", .integer(callback.merchantID), .integer(callback.type.rawValue),
            .string(callback.orderNo), .integer(callback.status.code), .array(refunds.map { .string($0) }),
        ]
        return IdempotencyKey(rawValue: JSONValue.array(parts).compactJSON)
    }

    public static func card(_ callback: CardCallback, merchantID: Int64) -> IdempotencyKey {
        let parts: [JSONValue] = [
            "card", .integer(merchantID), .string(callback.kind.rawValue), .string(callback.orderNo),
            .integer(callback.status),
        ]
        return IdempotencyKey(rawValue: JSONValue.array(parts).compactJSON)
    }

    public var description: String { rawValue }

    // Byte for byte, as SQLite and PostgreSQL compare the column: Swift's
    // `String ==` holds canonically equivalent text ("é" precomposed and
    // decomposed) equal, which made two callbacks one event in memory and
    // two in a database.
    public static func == (a: IdempotencyKey, b: IdempotencyKey) -> Bool { a.rawValue.utf8.elementsEqual(b.rawValue.utf8) }
    public func hash(into hasher: inout Hasher) { hashUTF8(rawValue, into: &hasher) }
}

/// Hashes a string's UTF-8 bytes, consistent with byte-for-byte equality
/// (`String`'s own hash follows canonical equivalence).
func hashUTF8(_ text: String, into hasher: inout Hasher) {
    hasher.combine(text.utf8.count)
    for byte in text.utf8 { hasher.combine(byte) }
}
