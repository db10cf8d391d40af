/// A payin or payout callback, decoded from the body TrustPay posted.
///
/// Decoding does not check the signature: verify the raw body with
/// ``TrustPaySignature`` first. Both the current snake_case names and the
/// older camelCase ones (`merchantId`, `orderNo`, `orderAmount`, `paidAmount`,
/// `balanceAmount`, `refundAmount`, `payTime`, `merchantRefundNo`) are
/// accepted; if both spellings are present they must agree.
///
/// Leniency, where the contract is silent:
/// - `null` and `""` count as absent (as for the signature); `reason`
///   defaults to `""`, and an empty `pay_time` is `nil`.
/// - `merchant_id`, `type` and `status` may be a JSON integer or a string of
///   digits; amounts a JSON number or a numeric string.
/// - `merchant_refund_no` may be an array of strings or a single string.
/// - `pay_time` is kept as text, unparsed.
public struct PaymentCallback: Sendable, Equatable {
    public let type: OrderType
    public let merchantID: Int64
    /// The merchant's own order number.
    public let orderNo: String
    public let status: OrderStatus
    /// English text from the provider; may be empty.
    public let reason: String
    /// `YYYY-MM-DD HH:MM:SS` as sent.
    public let payTime: String?
    public let orderAmount: Amount
    public let paidAmount: Amount?
    /// Net credited: payin `paid - fee`, payout `paid + fee`.
    public let balanceAmount: Amount?
    public let refundAmount: Amount?
    public let fee: Amount?
    /// All refund numbers tied to this payin; empty when none.
    public let merchantRefundNos: [String]
    /// The signature as received, if any.
    public let sign: String?
    /// Fields this version does not know, in order, kept for forward compatibility.
    public let extra: JSONObject
    /// Every field exactly as received.
    public let fields: JSONObject
    /// The body the fields were parsed from.
    public let rawBody: [UInt8]

    /// Decodes a raw callback body.
    public init(body: some Collection<UInt8>) throws(CallbackDecodingError) {
        let bytes = Array(body)
        try self.init(fields: try CallbackFields.parse(bytes), rawBody: bytes)
    }

    /// Decodes fields already parsed (e.g. while verifying the signature) from `rawBody`.
    public init(fields: JSONObject, rawBody: [UInt8]) throws(CallbackDecodingError) {
        var reader = CallbackFields(fields)
        type = OrderType(rawValue: try reader.required(["type"], as: CallbackFields.int))
        merchantID = try reader.required(["merchant_id", "merchantId"], as: CallbackFields.int64)
        orderNo = try reader.required(["order_no", "orderNo"], as: CallbackFields.identifier)
        status = OrderStatus(code: try reader.required(["status"], as: CallbackFields.int))
        reason = try reader.optional(["reason"], as: CallbackFields.string) ?? ""
        payTime = try reader.optional(["pay_time", "payTime"], as: CallbackFields.string)
        orderAmount = try reader.required(["order_amount", "orderAmount"], as: CallbackFields.amount)
        paidAmount = try reader.optional(["paid_amount", "paidAmount"], as: CallbackFields.amount)
        balanceAmount = try reader.optional(["balance_amount", "balanceAmount"], as: CallbackFields.amount)
        refundAmount = try reader.optional(["refund_amount", "refundAmount"], as: CallbackFields.amount)
        fee = try reader.optional(["fee"], as: CallbackFields.amount)
        merchantRefundNos =
            try reader.optional(["merchant_refund_no", "merchantRefundNo"], as: CallbackFields.stringList) ?? []
        sign = try reader.optional([TrustPaySignature.signKey], as: CallbackFields.string)
        extra = reader.extra
        self.fields = fields
        self.rawBody = rawBody
    }
}

extension PaymentCallback: CustomStringConvertible {
    /// One line for logs: no signature, no raw body, values of unknown fields
    /// left out, text escaped.
    public var description: String {
        var parts = ["\(type) \(logQuoted(orderNo)) of merchant \(merchantID)", "status \(status)"]
        parts.append("order_amount \(orderAmount)")
        if let paidAmount { parts.append("paid_amount \(paidAmount)") }
        if let balanceAmount { parts.append("balance_amount \(balanceAmount)") }
        if let refundAmount { parts.append("refund_amount \(refundAmount)") }
        if let fee { parts.append("fee \(fee)") }
        if !merchantRefundNos.isEmpty { parts.append("refunds \(merchantRefundNos.map { logQuoted($0) }.joined(separator: ","))") }
        if let payTime { parts.append("paid at \(logQuoted(payTime))") }
        if !reason.isEmpty { parts.append("reason \(logQuoted(reason))") }
        if !extra.isEmpty { parts.append("extra fields \(extra.keys.map { logQuoted($0) }.joined(separator: ","))") }
        return "PaymentCallback(" + parts.joined(separator: ", ") + ")"
    }
}
