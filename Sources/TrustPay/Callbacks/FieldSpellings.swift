/// The names a documented field may be sent under, the current one first,
/// each with its key fingerprint taken once: taken at every read, the
/// fingerprints of a callback's twenty look-ups cost more than comparing
/// the keys they spare (callgrind, BENCHMARKS.md session 12).
struct FieldSpellings: Sendable {
    let names: [(name: String, fingerprint: KeyFingerprint)]

    init(_ names: String...) {
        precondition(!names.isEmpty, "a field has at least one name")
        self.names = names.map { ($0, KeyFingerprint($0)) }
    }

    /// The current name, the one a missing field is reported under.
    var first: String { names[0].name }
}

extension FieldSpellings {
    static let type = FieldSpellings("type")
    static let merchantID = FieldSpellings("merchant_id", "merchantId")
    static let orderNo = FieldSpellings("order_no", "orderNo")
    static let status = FieldSpellings("status")
    static let reason = FieldSpellings("reason")
    static let payTime = FieldSpellings("pay_time", "payTime")
    static let orderAmount = FieldSpellings("order_amount", "orderAmount")
    static let paidAmount = FieldSpellings("paid_amount", "paidAmount")
    static let balanceAmount = FieldSpellings("balance_amount", "balanceAmount")
    static let refundAmount = FieldSpellings("refund_amount", "refundAmount")
    static let fee = FieldSpellings("fee")
    static let merchantRefundNo = FieldSpellings("merchant_refund_no", "merchantRefundNo")
    static let cardID = FieldSpellings("card_id", "cardId")
    static let amount = FieldSpellings("amount")
    static let balance = FieldSpellings("balance")
    static let orderID = FieldSpellings("orderId")
    static let cardPrefix = FieldSpellings("cardPrefix")
    static let cardSuffix = FieldSpellings("cardSuffix")
    static let cardHolderName = FieldSpellings("cardHolderName")
}
