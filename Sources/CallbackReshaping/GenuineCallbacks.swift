import TrustPay

/// Genuine callbacks, signed by TrustPay's rule with a known secret, in the
/// shapes the provider sends: the starting points that ``Reshaper`` bends
/// without re-signing. Deterministic for a seed.
public struct GenuineCallbacks {
    /// The merchant every generated callback belongs to.
    public static let merchantID: Int64 = 8_820_250_900_009
    public static let secret = "reshaping-test-secret"
    public static let keys = MerchantKeys(merchantID: merchantID, secrets: [secret])

    /// One signed body and the route it belongs on.
    public struct Callback: Sendable {
        public enum Route: String, Sendable, CaseIterable { case payment, card }
        public let route: Route
        /// The fields as signed, `sign` last.
        public let fields: JSONObject
        /// The compact body, as TrustPay would post it.
        public var body: [UInt8] { fields.compactJSONBytes }
    }

    private var rng: SplitMix64

    public init(seed: UInt64) { rng = SplitMix64(seed: seed) }

    /// The bodies the fuzz target starts from and recognises by their `sign`.
    public static func seeds(count: Int = 48) -> [Callback] {
        var generator = GenuineCallbacks(seed: 0x5EED)
        return (0..<count).map { _ in generator.next() }
    }

    /// A payment three times in four, else a card callback.
    public mutating func next() -> Callback {
        rng.next(upTo: 4) == 0 ? card() : payment()
    }

    public mutating func payment() -> Callback {
        let status = Int(rng.next(upTo: 9)) + 1
        let type = rng.next(upTo: 2) == 0 ? 0 : 1
        let camel = rng.next(upTo: 6) == 0  // an older provider version
        func name(_ snake: String, _ camelName: String) -> String { camel ? camelName : snake }
        var fields: JSONObject = [:]
        if type == 1 || rng.next(upTo: 2) == 0 { fields["type"] = .integer(type) }  // payin 0 is unsigned anyway
        fields[name("merchant_id", "merchantId")] = .integer(Self.merchantID)
        fields[name("order_no", "orderNo")] = .string(orderNumber())
        fields[name("order_amount", "orderAmount")] = amount()
        switch status {
        case 3, 4: break
        case 7...9 where type == 0:
            var refunds: [JSONValue] = []
            for _ in 0...rng.next(upTo: 3) { refunds.append(.string("RF-\(rng.next(upTo: 1000))")) }
            fields[name("merchant_refund_no", "merchantRefundNo")] = .array(refunds)
            fields[name("refund_amount", "refundAmount")] = amount()
        default:
            fields[name("paid_amount", "paidAmount")] = amount()
            fields[name("balance_amount", "balanceAmount")] = amount()
            fields["fee"] = rng.next(upTo: 4) == 0 ? .integer(0) : amount()
            fields[name("pay_time", "payTime")] = .string("2025-0\(rng.next(upTo: 9) + 1)-1\(rng.next(upTo: 10)) 16:43:5\(rng.next(upTo: 10))")
        }
        fields["status"] = .integer(status)
        fields["reason"] = .string(reasons[Int(rng.next(upTo: UInt64(reasons.count)))])
        addExtra(to: &fields)
        return signed(fields, route: .payment)
    }

    public mutating func card() -> Callback {
        var fields: JSONObject = [
            "order_no": .string(orderNumber()), "status": .integer(Int(rng.next(upTo: 6)) + 1),
            "card_id": .integer(Int(rng.next(upTo: 900)) + 1), "amount": amount(), "fee": amount(), "balance": amount(),
            "type": rng.next(upTo: 2) == 0 ? "OPEN_CARD" : "CARD_CHARGE",
            "reason": .string(reasons[Int(rng.next(upTo: UInt64(reasons.count)))]),
        ]
        if rng.next(upTo: 4) == 0 { fields["merchant_id"] = .integer(Self.merchantID) }
        addExtra(to: &fields)
        return signed(fields, route: .card)
    }

    private let reasons = ["success", "", "card declined", "支付失败 \"quoted\" & more", "a=b", "x&y", "100%"]

    private mutating func orderNumber() -> String {
        let stems = ["ORD-", "v1010", "payout", "订单/", "A&B-", "O=1-"]
        return stems[Int(rng.next(upTo: UInt64(stems.count)))] + String(rng.next(upTo: 100_000))
    }

    /// Amount literals in the forms seen: integers, two decimals, one
    /// decimal, and quoted.
    private mutating func amount() -> JSONValue {
        let whole = rng.next(upTo: 5000) + 1
        let cents = rng.next(upTo: 100)
        let literal: String =
            switch rng.next(upTo: 4) {
            case 0: "\(whole)"
            case 1: "\(whole).\(cents < 10 ? "0" : "")\(cents)"
            case 2: "\(whole).\(cents % 10)"
            default: "\(whole).50"
            }
        return rng.next(upTo: 5) == 0 ? .string(literal) : .number(literal)
    }

    private mutating func addExtra(to fields: inout JSONObject) {
        switch rng.next(upTo: 5) {
        case 0: fields["extra_flag"] = true
        case 1: fields["channel"] = .string("UPI")
        case 2: fields["attempt"] = .integer(Int(rng.next(upTo: 5)) + 1)
        default: break
        }
    }

    private mutating func signed(_ fields: JSONObject, route: Callback.Route) -> Callback {
        Self.signed(fields, route: route, form: NumberForm.allCases[Int(rng.next(upTo: 3))])
    }

    /// `fields` signed with ``secret`` as TrustPay would, for `route`.
    public static func signed(_ fields: JSONObject, route: Callback.Route, form: NumberForm = .asTransmitted) -> Callback {
        Callback(route: route, fields: TrustPaySignature().signed(fields, secret: secret, form: form))
    }
}
