import TrustPay

/// Builds signed callbacks shaped like TrustPay's, for any status.
///
/// Payments follow the documented field rules: statuses 1, 3 and 4 carry only
/// `order_amount`; payin statuses 7, 8 and 9 carry `merchant_refund_no` and
/// `refund_amount` but no `paid_amount`, `balance_amount`, `fee` or
/// `pay_time`; the others carry the paid amount, the fee and the net
/// balance (payin `paid - fee`, payout `paid + fee`).
///
/// ```swift
/// let factory = CallbackFactory(merchant: TestMerchant())
/// let paid = factory.payment(orderNo: "ORD-1", status: .unliquidated)
/// let refund = factory.payment(orderNo: "ORD-1", status: .partiallyRefunded, refundNos: ["RF-1"])
/// ```
public struct CallbackFactory: Sendable {
    public var merchant: TestMerchant
    /// The form numbers are rendered in when signing.
    public var form: NumberForm
    public var paymentPath: String
    public var cardPath: String
    public var riskControlPath: String

    public init(
        merchant: TestMerchant = TestMerchant(), form: NumberForm = .asTransmitted,
        paymentPath: String = "/trustpay/payment", cardPath: String = "/trustpay/card",
        riskControlPath: String = "/trustpay/risk-control"
    ) {
        self.merchant = merchant
        self.form = form
        self.paymentPath = paymentPath
        self.cardPath = cardPath
        self.riskControlPath = riskControlPath
    }

    /// A payin or payout callback.
    public func payment(
        _ type: OrderType = .payin, orderNo: String, status: OrderStatus, orderAmount: Amount = Amount.of("106"),
        fee: Amount = Amount.of("6"), refundNos: [String] = ["RF-1"], refundAmount: Amount? = nil,
        reason: String? = nil, payTime: String = "2025-08-05 16:43:55", extra: JSONObject = [:]
    ) -> SignedCallback {
        var fields = PaymentCallbackShape.fields(
            type: type, merchantID: merchant.id, orderNo: orderNo, status: status, orderAmount: JSONValue(orderAmount),
            settlement: .init(type: type, paid: orderAmount, fee: fee, payTime: payTime),
            refund: .init(
                refundNos: refundNos,
                refundAmount: JSONValue(refundAmount ?? (status == .refunded ? orderAmount : Amount.of("50")))),
            reason: reason ?? Self.reason(for: status))
        for member in extra { fields[member.key] = member.value }
        return SignedCallback(fields: fields, path: paymentPath, secret: merchant.secret, form: form)
    }

    /// An open-card or recharge callback (`balance` is `amount - fee`).
    public func card(
        _ kind: CardCallbackKind = .openCard, orderNo: String, status: Int, cardID: Int64 = 57,
        amount: Amount = Amount.of("35"), fee: Amount = Amount.of("11"), reason: String = "",
        query: String? = nil
    ) -> SignedCallback {
        let fields: JSONObject = [
            "order_no": .string(orderNo), "status": .integer(status), "card_id": .integer(cardID),
            "amount": JSONValue(amount), "fee": JSONValue(fee), "balance": JSONValue(amount - fee),
            "type": .string(kind.rawValue), "reason": .string(reason),
        ]
        return SignedCallback(fields: fields, path: cardPath, query: query, secret: merchant.secret, form: form)
    }

    /// A risk-control request (unsigned, as the provider documents it).
    public func riskControl(
        orderID: String, cardPrefix: String = "411111", cardSuffix: String = "1111",
        cardHolderName: String = "Test Holder"
    ) -> TestRequest {
        let fields: JSONObject = [
            "orderId": .string(orderID), "cardPrefix": .string(cardPrefix), "cardSuffix": .string(cardSuffix),
            "cardHolderName": .string(cardHolderName),
        ]
        return .json(riskControlPath, body: fields.compactJSONBytes)
    }

    static func reason(for status: OrderStatus) -> String {
        switch status {
        case .paid, .unliquidated, .statement: "success"
        case .failed: "declined by issuer"
        case .timedOut: "order timed out"
        default: ""
        }
    }
}

extension Amount {
    /// An amount from a literal known to be valid; traps otherwise (test code only).
    public static func of(_ literal: String) -> Amount {
        guard let amount = Amount(literal) else { preconditionFailure("\(literal) is not an amount literal") }
        return amount
    }
}
