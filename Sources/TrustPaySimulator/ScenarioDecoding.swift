import TrustPay

// The scenario file's shape (snake_case keys; waits in seconds):
//
//   merchants: [{id: 8820250900009, secret: "…", api_key: "…"}]
//   notify_url: http://127.0.0.1:8080/trustpay/payment
//   retry_schedule: [0, 1, 2, 5]
//   delivery_timeout: 5
//   amounts_as: numbers            # or strings
//   orders:
//     - {merchant_id: 8820250900009, order_no: ORD-1, type: payin, order_amount: "106.00",
//        statuses: [{status: 5, fee: "6.00"}, {status: 7, refund_nos: [RF-1], copies: 2}],
//        delivery_order: [1, 0]}
//
// Unknown keys are refused, so a misspelt key is an error rather than a default.

extension SimulatorScenario: Decodable {
    enum CodingKeys: String, CodingKey, CaseIterable {
        case merchants, orders
        case notifyURL = "notify_url"
        case retrySchedule = "retry_schedule"
        case deliveryTimeout = "delivery_timeout"
        case amountsAs = "amounts_as"
    }

    public init(from decoder: any Decoder) throws {
        try refuseUnknownKeys(decoder, known: CodingKeys.allCases.map(\.rawValue))
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            merchants: try container.decode([SimulatedMerchant].self, forKey: .merchants),
            orders: try container.decodeIfPresent([ScriptedOrder].self, forKey: .orders) ?? [],
            notifyURL: try container.decodeIfPresent(String.self, forKey: .notifyURL),
            retrySchedule: try container.decodeIfPresent([Double].self, forKey: .retrySchedule)
                .map { try $0.map { try seconds($0, key: "retry_schedule", in: container) } }
                ?? Self.defaultRetrySchedule,
            deliveryTimeout: try container.decodeIfPresent(Double.self, forKey: .deliveryTimeout)
                .map { try seconds($0, key: "delivery_timeout", in: container) } ?? .seconds(5),
            amountsAs: try container.decodeIfPresent(AmountStyle.self, forKey: .amountsAs) ?? .numbers)
    }
}

extension AmountStyle: Decodable {}

extension SimulatedMerchant: Decodable {
    enum CodingKeys: String, CodingKey, CaseIterable {
        case id, secret
        case apiKey = "api_key"
    }

    public init(from decoder: any Decoder) throws {
        try refuseUnknownKeys(decoder, known: CodingKeys.allCases.map(\.rawValue))
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            id: try container.decode(Int64.self, forKey: .id), secret: try container.decode(String.self, forKey: .secret),
            apiKey: try container.decode(String.self, forKey: .apiKey))
    }
}

extension ScriptedOrder: Decodable {
    enum CodingKeys: String, CodingKey, CaseIterable {
        case type, currency, statuses
        case merchantID = "merchant_id"
        case orderNo = "order_no"
        case orderAmount = "order_amount"
        case deliveryOrder = "delivery_order"
    }

    public init(from decoder: any Decoder) throws {
        try refuseUnknownKeys(decoder, known: CodingKeys.allCases.map(\.rawValue))
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let type: OrderType
        switch try container.decodeIfPresent(String.self, forKey: .type) ?? "payin" {
        case "payin", "0": type = .payin
        case "payout", "1": type = .payout
        case let other:
            throw DecodingError.dataCorruptedError(
                forKey: .type, in: container, debugDescription: "type must be payin or payout, not \(other)")
        }
        self.init(
            merchantID: try container.decode(Int64.self, forKey: .merchantID),
            orderNo: try container.decode(String.self, forKey: .orderNo), type: type,
            orderAmount: try container.decode(Amount.self, forKey: .orderAmount),
            currency: try container.decodeIfPresent(String.self, forKey: .currency) ?? "USD",
            statuses: try container.decode([ScriptedStatus].self, forKey: .statuses),
            deliveryOrder: try container.decodeIfPresent([Int].self, forKey: .deliveryOrder))
    }
}

extension ScriptedStatus: Decodable {
    enum CodingKeys: String, CodingKey, CaseIterable {
        case status, fee, reason, deliver, copies, delay
        case paidAmount = "paid_amount"
        case refundAmount = "refund_amount"
        case refundNos = "refund_nos"
    }

    public init(from decoder: any Decoder) throws {
        try refuseUnknownKeys(decoder, known: CodingKeys.allCases.map(\.rawValue))
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            OrderStatus(code: try container.decode(Int.self, forKey: .status)),
            paidAmount: try container.decodeIfPresent(Amount.self, forKey: .paidAmount),
            fee: try container.decodeIfPresent(Amount.self, forKey: .fee),
            refundAmount: try container.decodeIfPresent(Amount.self, forKey: .refundAmount),
            refundNos: try container.decodeIfPresent([String].self, forKey: .refundNos) ?? [],
            reason: try container.decodeIfPresent(String.self, forKey: .reason) ?? "",
            deliver: try container.decodeIfPresent(Bool.self, forKey: .deliver) ?? true,
            copies: try container.decodeIfPresent(Int.self, forKey: .copies) ?? 1,
            delay: try container.decodeIfPresent(Double.self, forKey: .delay)
                .map { try seconds($0, key: "delay", in: container) } ?? .zero)
    }
}

/// Seconds as a Duration; a wait is a count of seconds, not money, so a
/// Double is the right reading here.
private func seconds<Key: CodingKey>(
    _ value: Double, key: String, in container: KeyedDecodingContainer<Key>
) throws -> Duration {
    guard value.isFinite, value >= 0, value < 86_400 else {
        throw DecodingError.dataCorrupted(
            .init(codingPath: container.codingPath, debugDescription: "\(key) must be seconds between 0 and 86400"))
    }
    return .milliseconds(Int64((value * 1000).rounded()))
}

private struct AnyKey: CodingKey {
    let stringValue: String
    init(stringValue: String) { self.stringValue = stringValue }
    var intValue: Int? { nil }
    init?(intValue: Int) { nil }
}

private func refuseUnknownKeys(_ decoder: any Decoder, known: [String]) throws {
    let container = try decoder.container(keyedBy: AnyKey.self)
    for key in container.allKeys where !known.contains(key.stringValue) {
        throw DecodingError.dataCorrupted(
            .init(codingPath: container.codingPath + [key],
                  debugDescription: "unknown key \"\(key.stringValue)\" (known: \(known.joined(separator: ", ")))"))
    }
}
