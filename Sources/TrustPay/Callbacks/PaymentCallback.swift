/// A payin or payout callback, decoded from the body TrustPay posted.
///
/// Decoding does not check the signature: verify the raw body with
/// ``TrustPaySignature`` first. Both the current snake_case names and the
/// older camelCase ones (`merchantId`, `orderNo`, `orderAmount`, `paidAmount`,
/// `balanceAmount`, `refundAmount`, `payTime`, `merchantRefundNo`) are
/// accepted; if both spellings are present they must agree.
///
/// Decoding follows the rules of ``SignedContent``: field names are
/// TrustPay's; `merchant_id`, `type` and `status` are JSON integers;
/// `order_no`, `reason` and `pay_time` strings (`pay_time` as
/// `YYYY-MM-DD HH:MM:SS`); amounts numbers or numeric strings, exact;
/// `merchant_refund_no` an array of strings. A value the signature leaves out
/// (`null`, `""`, zero, `false`, `[]`, `{}`) reads as absent: `type` then
/// means payin (`0`), `reason` is `""`, the optional amounts are `nil`.
/// `merchant_id`, `order_no`, `status` and `order_amount` must be present.
public struct PaymentCallback: DecodableCallback, Sendable, Equatable {
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

    /// Decodes fields already parsed (e.g. while verifying the signature) from `rawBody`.
    public init(fields: JSONObject, rawBody: [UInt8]) throws(CallbackDecodingError) {
        var renderedBack = RenderedBack(object: JSONObject(), rendersAsTransmitted: false)
        try self.init(fields: fields, rawBody: rawBody, renderedBack: &renderedBack, writingBack: false)
    }

    /// The same, handing back the typed fields written back for the round
    /// trip (``SignedContent``). Not kept in the callback: it is needed once,
    /// and every copy of the callback would retain it and every release free
    /// it. Without `writingBack`, only its flag is set and its object is
    /// left empty (see ``CallbackFields/writesBack``).
    init(
        fields: JSONObject, rawBody: [UInt8], renderedBack: inout RenderedBack, writingBack: Bool = true
    ) throws(CallbackDecodingError) {
        try SignedContent.checkShape(fields, signature: .standard)
        var reader = CallbackFields(fields, writingBack: writingBack)
        type = OrderType(rawValue: try reader.optional(.type, as: .anInteger) ?? 0)
        merchantID = try reader.required(.merchantID, as: .a64BitInteger)
        orderNo = try reader.required(.orderNo, as: .string)
        status = OrderStatus(code: try reader.required(.status, as: .anInteger))
        reason = try reader.optional(.reason, as: .string) ?? ""
        payTime = try reader.optional(.payTime, as: .payTime)
        orderAmount = try reader.required(.orderAmount, as: .amount)
        paidAmount = try reader.optional(.paidAmount, as: .amount)
        balanceAmount = try reader.optional(.balanceAmount, as: .amount)
        refundAmount = try reader.optional(.refundAmount, as: .amount)
        fee = try reader.optional(.fee, as: .amount)
        merchantRefundNos = try reader.optional(.merchantRefundNo, as: .stringList) ?? []
        sign = fields.signValue?.stringValue
        extra = reader.extra
        renderedBack = reader.takeRenderedBack()
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
