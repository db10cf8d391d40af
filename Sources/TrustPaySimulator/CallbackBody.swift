import Foundation
import TrustPay

/// The payment callback TrustPay posts for one status of an order, shaped
/// as CALLBACKS.md documents: statuses 1, 3 and 4 carry only `order_amount`;
/// payin 7, 8 and 9 carry `merchant_refund_no` and `refund_amount`; the
/// others the paid amount, fee, net balance and `pay_time`. Amounts are JSON
/// numbers, as in the provider's example; `sign` is last.
enum CallbackBody {
    struct Amounts {
        var paid: Amount?
        var fee: Amount?
        var refund: Amount?
    }

    static func isRefund(_ order: ScriptedOrder, _ step: ScriptedStatus) -> Bool {
        PaymentCallbackShape(type: order.type, status: step.status) == .refund
    }

    /// What the order holds at `step`, for the query answer (which, unlike a
    /// refund callback, still shows what was paid).
    static func amounts(of order: ScriptedOrder, at step: ScriptedStatus) -> Amounts {
        if PaymentCallbackShape(type: order.type, status: step.status) == .orderAmountOnly {
            return Amounts(paid: step.paidAmount, fee: step.fee, refund: nil)
        }
        if isRefund(order, step) {
            let refund =
                step.refundAmount
                ?? (step.status == .refunded ? order.orderAmount : Amount(order.orderAmount.value / 2) ?? .zero)
            return Amounts(paid: step.paidAmount ?? order.orderAmount, fee: step.fee, refund: refund)
        }
        return Amounts(paid: step.paidAmount ?? order.orderAmount, fee: step.fee, refund: step.refundAmount)
    }

    static func fields(of order: ScriptedOrder, at step: ScriptedStatus, payTime: String) -> JSONObject {
        let amounts = amounts(of: order, at: step)
        return PaymentCallbackShape.fields(
            type: order.type, merchantID: order.merchantID, orderNo: order.orderNo, status: step.status,
            orderAmount: JSONValue(order.orderAmount),
            settlement: amounts.paid.map { .init(type: order.type, paid: $0, fee: amounts.fee, payTime: payTime) },
            refund: .init(refundNos: step.refundNos, refundAmount: amounts.refund.map(JSONValue.init) ?? .null),
            reason: step.reason)
    }

    static func signed(
        _ order: ScriptedOrder, at step: ScriptedStatus, secret: String, payTime: String
    ) -> [UInt8] {
        TrustPaySignature().signedBody(fields(of: order, at: step, payTime: payTime), secret: secret)
    }

    /// `YYYY-MM-DD HH:MM:SS` in UTC.
    static func payTime(_ date: Date) -> String {
        let iso = date.formatted(.iso8601)  // 2026-05-15T07:23:06Z
        return String(iso.prefix(19)).replacingOccurrences(of: "T", with: " ")
    }
}
