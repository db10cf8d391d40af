/// The body of an Order Query (`POST /v4/query/order`): the order number,
/// optionally the merchant id, signed by the callbacks' rule with the
/// merchant's secret.
///
/// The `X-Api-Key` header and the transport are the caller's business
/// (module `TrustPayAPI`); this type only says what is sent.
///
/// ```swift
/// let body = OrderQueryRequest(orderNo: "ORD-1", merchantID: 8820250900009)
///     .signedBody(secret: secret)
/// // {"merchant_id":8820250900009,"order_no":"ORD-1","sign":"…"}
/// ```
public struct OrderQueryRequest: Sendable, Equatable {
    /// The merchant's own order number.
    public let orderNo: String
    /// Sent (and signed) when given. The v4 page names only `order_no`; the
    /// merchant id is an **assumption** of CALLBACKS.md that costs nothing
    /// when the provider ignores it.
    public let merchantID: Int64?

    public init(orderNo: String, merchantID: Int64?) {
        self.orderNo = orderNo
        self.merchantID = merchantID
    }

    /// The fields before signing, in the order they are sent.
    public var fields: JSONObject {
        var fields = JSONObject()
        if let merchantID { fields["merchant_id"] = .integer(merchantID) }
        fields["order_no"] = .string(orderNo)
        return fields
    }

    /// The compact JSON body with `sign` last, ready to POST. Never log it
    /// with the secret's canonical string; the body itself holds no secret.
    public func signedBody(secret: String) -> [UInt8] {
        TrustPaySignature().signedBody(fields, secret: secret)
    }
}
