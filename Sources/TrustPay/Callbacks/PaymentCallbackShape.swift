/// Which fields a payment callback carries at a status, as CALLBACKS.md
/// documents them. Whatever writes a callback (the simulator, `send`, the
/// test factory) asks here, so the rule is written once.
public enum PaymentCallbackShape: Sendable, Equatable {
    /// Statuses 1, 3 and 4: only `order_amount`.
    case orderAmountOnly
    /// Payin statuses 7, 8 and 9: `merchant_refund_no` and `refund_amount`,
    /// and no `paid_amount`, `balance_amount`, `fee` or `pay_time`.
    case refund
    /// Every other status: `paid_amount`, `balance_amount`, `fee` and `pay_time`.
    case settlement

    public init(type: OrderType, status: OrderStatus) {
        switch (type, status) {
        case (_, .pending), (_, .failed), (_, .timedOut): self = .orderAmountOnly
        case (.payin, .refunded), (.payin, .partiallyRefunded), (.payin, .refunding): self = .refund
        default: self = .settlement
        }
    }

    /// What a settled order's callback says was paid.
    public struct Settlement: Sendable {
        public var paidAmount: JSONValue
        /// Absent when the callback leaves the fee out.
        public var fee: JSONValue?
        public var balanceAmount: Amount
        public var payTime: String

        /// `balanceAmount` is the net: payin `paid - fee`, payout `paid + fee`.
        public init(type: OrderType, paid: Amount, fee: Amount?, payTime: String) {
            self.init(paidAmount: JSONValue(paid), fee: fee.map(JSONValue.init), type: type, paid: paid, payTime: payTime)
        }

        /// Amounts written as given (`paidAmount` and `fee` keep their text),
        /// the net computed from their values.
        public init(paidAmount: JSONValue, fee: JSONValue?, type: OrderType, paid: Amount, payTime: String) {
            self.paidAmount = paidAmount
            self.fee = fee
            let feeValue = fee?.numberLiteral.flatMap(Amount.init) ?? .zero
            balanceAmount = type == .payout ? paid + feeValue : paid - feeValue
            self.payTime = payTime
        }
    }

    /// What a refund's callback says was refunded.
    public struct Refund: Sendable {
        public var refundNos: [String]
        public var refundAmount: JSONValue

        public init(refundNos: [String], refundAmount: JSONValue) {
            self.refundNos = refundNos
            self.refundAmount = refundAmount
        }
    }

    /// The unsigned fields of a payment callback in TrustPay's order, with
    /// only what this status carries: `settlement` is read for a settled
    /// status, `refund` for a refund, neither otherwise.
    public static func fields(
        type: OrderType, merchantID: Int64, orderNo: String, status: OrderStatus, orderAmount: JSONValue,
        settlement: Settlement?, refund: Refund?, reason: String
    ) -> JSONObject {
        var fields: JSONObject = [
            "type": .integer(type.rawValue), "merchant_id": .integer(merchantID), "order_no": .string(orderNo),
            "order_amount": orderAmount,
        ]
        switch PaymentCallbackShape(type: type, status: status) {
        case .orderAmountOnly:
            break
        case .refund:
            if let refund {
                fields["merchant_refund_no"] = .array(refund.refundNos.map { .string($0) })
                fields["refund_amount"] = refund.refundAmount
            }
        case .settlement:
            if let settlement {
                fields["paid_amount"] = settlement.paidAmount
                fields["balance_amount"] = JSONValue(settlement.balanceAmount)
                if let fee = settlement.fee { fields["fee"] = fee }
                fields["pay_time"] = .string(settlement.payTime)
            }
        }
        fields["status"] = .integer(status.code)
        fields["reason"] = .string(reason)
        return fields
    }
}
