// A stand-in for TrustPay, for merchants' integration tests and ours: it
// answers the Order Query API like the provider and delivers signed payment
// callbacks for scripted orders to a notify_url, with repeats, out-of-order
// statuses, retries on a schedule and giving up after the last one.
import TrustPay

/// What the simulator plays: the merchants it knows, the orders it scripts,
/// and how it delivers. Decodable from the `simulate` command's scenario
/// file (YAML or JSON, snake_case keys); see the README.
public struct SimulatorScenario: Sendable {
    public var merchants: [SimulatedMerchant]
    public var orders: [ScriptedOrder]
    /// Where callbacks are posted; `nil` delivers nothing (query only).
    public var notifyURL: String?
    /// The wait before each attempt of one delivery, the first included:
    /// `[0s, 1s, 2s, 5s]` tries at once, then 1 s, 2 s and 5 s after each
    /// failure, and gives up after the fourth. **Assumption**: TrustPay does
    /// not publish its schedule.
    public var retrySchedule: [Duration]
    /// How long one delivery attempt may take; a slower answer is a failure.
    public var deliveryTimeout: Duration
    /// How query answers write amounts; the provider's examples show both.
    public var amountsAs: AmountStyle

    public init(
        merchants: [SimulatedMerchant], orders: [ScriptedOrder] = [], notifyURL: String? = nil,
        retrySchedule: [Duration] = SimulatorScenario.defaultRetrySchedule, deliveryTimeout: Duration = .seconds(5),
        amountsAs: AmountStyle = .numbers
    ) {
        self.merchants = merchants
        self.orders = orders
        self.notifyURL = notifyURL
        self.retrySchedule = retrySchedule
        self.deliveryTimeout = deliveryTimeout
        self.amountsAs = amountsAs
    }

    public static let defaultRetrySchedule: [Duration] = [.zero, .seconds(1), .seconds(2), .seconds(5)]

    /// The first rule the scenario breaks, if any.
    public func problem() -> String? {
        if merchants.isEmpty { return "no merchant" }
        var ids: Set<Int64> = []
        var keys: Set<String> = []
        for merchant in merchants {
            if merchant.secret.isEmpty { return "merchant \(merchant.id) has an empty secret" }
            if merchant.apiKey.isEmpty { return "merchant \(merchant.id) has an empty api_key" }
            if !ids.insert(merchant.id).inserted { return "merchant \(merchant.id) appears twice" }
            if !keys.insert(merchant.apiKey).inserted { return "two merchants share an api_key" }
        }
        if retrySchedule.isEmpty { return "retry_schedule is empty: a callback needs at least one attempt" }
        if retrySchedule.contains(where: { $0 < .zero }) { return "retry_schedule holds a negative wait" }
        if deliveryTimeout <= .zero { return "delivery_timeout must be positive" }
        var seen: Set<String> = []
        for order in orders {
            guard ids.contains(order.merchantID) else {
                return "order \(order.orderNo) belongs to merchant \(order.merchantID), which is not listed"
            }
            if order.orderNo.isEmpty { return "an order has an empty order_no" }
            if !seen.insert("\(order.merchantID)/\(order.orderNo)").inserted {
                return "order \(order.orderNo) of merchant \(order.merchantID) appears twice"
            }
            if order.statuses.isEmpty { return "order \(order.orderNo) has no status" }
            if let sequence = order.deliveryOrder {
                let delivered = order.statuses.indices.filter { order.statuses[$0].deliver }
                guard sequence.sorted() == delivered else {
                    return "order \(order.orderNo): delivery_order must list each delivered status index once "
                        + "(\(delivered.map(String.init).joined(separator: ", ")))"
                }
            }
            if order.statuses.contains(where: { $0.copies < 1 }) {
                return "order \(order.orderNo): copies must be at least 1"
            }
        }
        return nil
    }
}

/// A merchant as TrustPay knows it: its id, the secret both sides sign with,
/// and the API key its requests must carry.
public struct SimulatedMerchant: Sendable, Equatable {
    public var id: Int64
    public var secret: String
    public var apiKey: String

    public init(id: Int64, secret: String, apiKey: String) {
        self.id = id
        self.secret = secret
        self.apiKey = apiKey
    }
}

/// How the query answer writes amounts: `106.00` or `"106.00"`.
public enum AmountStyle: String, Sendable, CaseIterable {
    case numbers, strings
}

/// One order and the statuses it goes through, in the order they happen.
public struct ScriptedOrder: Sendable, Equatable {
    public var merchantID: Int64
    public var orderNo: String
    public var type: OrderType
    public var orderAmount: Amount
    public var currency: String
    public var statuses: [ScriptedStatus]
    /// Indices into ``statuses`` in the order their callbacks are posted,
    /// when that is not the order they happened (out-of-order delivery).
    /// Must list every delivered status once.
    public var deliveryOrder: [Int]?

    public init(
        merchantID: Int64, orderNo: String, type: OrderType = .payin, orderAmount: Amount,
        currency: String = "USD", statuses: [ScriptedStatus], deliveryOrder: [Int]? = nil
    ) {
        self.merchantID = merchantID
        self.orderNo = orderNo
        self.type = type
        self.orderAmount = orderAmount
        self.currency = currency
        self.statuses = statuses
        self.deliveryOrder = deliveryOrder
    }
}

/// One status an order reaches, with what its callback and the query say.
public struct ScriptedStatus: Sendable, Equatable {
    public var status: OrderStatus
    /// The paid amount (statuses that carry one); defaults to the order amount.
    public var paidAmount: Amount?
    public var fee: Amount?
    /// Payin refunds (7, 8, 9): the refunded amount; defaults to the order
    /// amount for 7 and half of it for 8 and 9.
    public var refundAmount: Amount?
    /// Payin refunds: `merchant_refund_no`.
    public var refundNos: [String]
    public var reason: String
    /// Whether TrustPay posts a callback for it at all; `false` leaves it to
    /// the Order Query.
    public var deliver: Bool
    /// How many times the same callback is posted once delivered (repeats).
    public var copies: Int
    /// A wait before the first attempt (a slow provider).
    public var delay: Duration

    public init(
        _ status: OrderStatus, paidAmount: Amount? = nil, fee: Amount? = nil, refundAmount: Amount? = nil,
        refundNos: [String] = [], reason: String = "", deliver: Bool = true, copies: Int = 1, delay: Duration = .zero
    ) {
        self.status = status
        self.paidAmount = paidAmount
        self.fee = fee
        self.refundAmount = refundAmount
        self.refundNos = refundNos
        self.reason = reason
        self.deliver = deliver
        self.copies = copies
        self.delay = delay
    }
}
