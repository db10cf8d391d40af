// TrustPay's rule for "the same event" and "the same order": the texts the
// pipeline hands an inbox as its idempotency key and order reference. The
// inbox stores and compares them byte for byte and never parses them, so
// these texts must stay as they are: stored databases index them.

extension PaymentCallback {
    /// The idempotency key's text: merchant, order type, `order_no`, status
    /// and the set of refund numbers (a payin refunded twice reports status 8
    /// with one and then two refund numbers: two events).
    ///
    /// Every part comes from what the signature covers: the typed fields of
    /// an ``AuthenticCallback``, which ``CallbackAuthenticator`` proves write
    /// back into the verified text byte for byte, so a part is its canonical
    /// rendering (`merchant_id` and `status` as their signed integer
    /// literals). An absent payment `type` is payin, `0`, as its empty value
    /// is. Refund numbers are sorted: the same set in another order is the
    /// same refund state. The text is the compact JSON array of those parts,
    /// so no separator inside an order number can make two keys collide.
    ///
    /// An Order Query answer read as a callback (``init(orderQueryAnswer:)``)
    /// has no refund numbers, so its key is the callback's for every status
    /// that carries none.
    public var idempotencyKey: String { identity.idempotencyKey }

    /// ``idempotencyKey`` and ``orderReference`` together: the key starts
    /// with the reference's parts, written once (every recorded callback
    /// needs both).
    package var identity: (idempotencyKey: String, orderReference: String) {
        var parts = Self.orderParts(merchantID: merchantID, type: type, orderNo: orderNo)
        let reference = parts.text
        parts.append(status.code)
        parts.append(strings: merchantRefundNos.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) })
        return (parts.text, reference)
    }

    /// The order across its status changes: (merchant, order type, `order_no`).
    public var orderReference: String { Self.orderReference(merchantID: merchantID, type: type, orderNo: orderNo) }

    /// A payin or payout order's reference, as reconciliation names the
    /// orders it expects and queries: the same text as ``orderReference``.
    public static func orderReference(merchantID: Int64, type: OrderType, orderNo: String) -> String {
        orderParts(merchantID: merchantID, type: type, orderNo: orderNo).text
    }

    /// Written part by part (every callback makes both texts), not built as
    /// `JSONValue`s first: the same bytes.
    private static func orderParts(merchantID: Int64, type: OrderType, orderNo: String) -> CompactJSONArray {
        var parts = CompactJSONArray()
        parts.append("payment")
        parts.append(merchantID)
        parts.append(type.rawValue)
        parts.append(orderNo)
        return parts
    }
}

extension CardCallback {
    /// The idempotency key's text: the merchant of the route the callback
    /// arrived on, the card callback `type`, `order_no` and status, as a
    /// compact JSON array (see ``PaymentCallback/idempotencyKey``).
    public func idempotencyKey(merchantID: Int64) -> String {
        var key = orderParts(merchantID: merchantID)
        key.append(status)
        return key.text
    }

    /// The card order across its status changes: (route merchant, card
    /// callback `type`, `order_no`).
    public func orderReference(merchantID: Int64) -> String { orderParts(merchantID: merchantID).text }

    private func orderParts(merchantID: Int64) -> CompactJSONArray {
        var parts = CompactJSONArray()
        parts.append("card")
        parts.append(merchantID)
        parts.append(kind.rawValue)
        parts.append(orderNo)
        return parts
    }
}
