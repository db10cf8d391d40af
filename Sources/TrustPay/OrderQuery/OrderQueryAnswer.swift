import Foundation

/// An order's current state as TrustPay's Order Query API tells it:
/// the `data` of a `{"code":880001,"message":"success","data":{…}}` answer.
///
/// The answer carries no signature; it is trusted only because it came over
/// HTTPS from the provider's host, so whatever is recorded from it must say
/// that it came from the API. Amounts are exact whether the provider writes
/// them as numbers (`50`, `2.50`) or as strings (`"50"`, `"2.5"`); fields this
/// version does not know are ignored, and kept in ``rawAnswer``.
///
/// ```swift
/// do {
///     let answer = try OrderQueryAnswer.parse(body)
///     if answer.status == .unliquidated { … }
/// } catch .provider(let code, let message) {
///     // e.g. 880011 (unauthorized): the API key was refused
/// } catch .malformed(let why) { … }
/// ```
public struct OrderQueryAnswer: Sendable, Equatable {
    /// The merchant's own order number.
    public let orderNo: String
    /// The provider's order number, if given.
    public let platformOrderNo: String?
    /// From `type_id`: 0 payin, 1 payout.
    public let orderType: OrderType
    public let merchantID: Int64
    public let currency: String?
    public let orderAmount: Amount?
    public let paidAmount: Amount?
    public let refundAmount: Amount?
    public let fee: Amount?
    public let status: OrderStatus
    /// `status` as on the wire, for codes ``OrderStatus`` does not know.
    public let statusCode: Int
    /// English text from the provider; `nil` when absent or empty.
    public let reason: String?
    /// The provider's notification status: 1 pending, 2 sent, 3 failed.
    public let notifyStatus: Int?
    /// `notify_time` as given (ISO 8601, UTC).
    public let notifyTime: String?
    /// `create_time` as given (ISO 8601, UTC).
    public let createTime: String?
    /// ``createTime`` read as a date; `nil` when absent or not ISO 8601. A
    /// time without a zone is taken as UTC, as the provider documents.
    public let createdAt: Date?
    /// The whole answer body as received.
    public let rawAnswer: [UInt8]

    public init(
        orderNo: String, platformOrderNo: String? = nil, orderType: OrderType, merchantID: Int64,
        currency: String? = nil, orderAmount: Amount? = nil, paidAmount: Amount? = nil, refundAmount: Amount? = nil,
        fee: Amount? = nil, statusCode: Int, reason: String? = nil, notifyStatus: Int? = nil,
        notifyTime: String? = nil, createTime: String? = nil, rawAnswer: [UInt8]
    ) {
        self.orderNo = orderNo
        self.platformOrderNo = platformOrderNo
        self.orderType = orderType
        self.merchantID = merchantID
        self.currency = currency
        self.orderAmount = orderAmount
        self.paidAmount = paidAmount
        self.refundAmount = refundAmount
        self.fee = fee
        self.status = OrderStatus(code: statusCode)
        self.statusCode = statusCode
        self.reason = reason
        self.notifyStatus = notifyStatus
        self.notifyTime = notifyTime
        self.createTime = createTime
        self.createdAt = createTime.flatMap(ISO8601Time.date(from:))
        self.rawAnswer = rawAnswer
    }

    /// The success code of the answer envelope.
    public static let successCode = TrustPayAPICode.success

    /// Reads a whole answer body.
    ///
    /// - Throws: ``OrderQueryAnswerError/provider(code:message:)`` when
    ///   `code` is not `880001`; ``OrderQueryAnswerError/malformed(_:)``,
    ///   naming the field, when the body is not JSON, lacks `code`, `data`,
    ///   `data.order_no`, `data.type_id`, `data.merchant_id` or
    ///   `data.status`, or holds a field of the wrong type.
    public static func parse(_ body: [UInt8]) throws(OrderQueryAnswerError) -> OrderQueryAnswer {
        let value: JSONValue
        do {
            value = try JSONValue(parsing: body)
        } catch {
            throw .malformed("the body is not valid JSON (\(error))")
        }
        guard case .object(let envelope) = value else { throw .malformed("the body is JSON but not an object") }
        let top = AnswerFields(envelope, path: "")
        let code = TrustPayAPICode(code: try top.required("code", as: AnswerFields.integer(Int.self)))
        let message = try top.optional("message", as: AnswerFields.text) ?? ""
        guard code == .success else { throw .provider(code: code, message: message) }
        guard let dataValue = envelope["data"], !dataValue.isNull else { throw .malformed("\"data\" is missing") }
        guard case .object(let dataObject) = dataValue else { throw .malformed("\"data\" is not an object") }

        let data = AnswerFields(dataObject, path: "data.")
        return OrderQueryAnswer(
            orderNo: try data.required("order_no", as: AnswerFields.text),
            platformOrderNo: try data.optional("platform_order_no", as: AnswerFields.identifier),
            orderType: OrderType(rawValue: try data.required("type_id", as: AnswerFields.integer(Int.self))),
            merchantID: try data.required("merchant_id", as: AnswerFields.integer(Int64.self)),
            currency: try data.optional("currency", as: AnswerFields.text),
            orderAmount: try data.optional("order_amount", as: AnswerFields.amount),
            paidAmount: try data.optional("paid_amount", as: AnswerFields.amount),
            refundAmount: try data.optional("refund_amount", as: AnswerFields.amount),
            fee: try data.optional("fee", as: AnswerFields.amount),
            statusCode: try data.required("status", as: AnswerFields.integer(Int.self)),
            reason: try data.optional("reason", as: AnswerFields.text),
            notifyStatus: try data.optional("notify_status", as: AnswerFields.integer(Int.self)),
            notifyTime: try data.optional("notify_time", as: AnswerFields.text),
            createTime: try data.optional("create_time", as: AnswerFields.text),
            rawAnswer: body)
    }
}

extension OrderQueryAnswer: CustomStringConvertible {
    /// One line for logs: the order, its status and amounts; no raw body.
    public var description: String {
        var parts = ["\(orderType) \(logQuoted(orderNo)) of merchant \(merchantID)", "status \(status)"]
        if let orderAmount { parts.append("order_amount \(orderAmount)") }
        if let paidAmount { parts.append("paid_amount \(paidAmount)") }
        if let refundAmount { parts.append("refund_amount \(refundAmount)") }
        if let fee { parts.append("fee \(fee)") }
        if let currency { parts.append("currency \(logQuoted(currency, limit: 8))") }
        return "OrderQueryAnswer(" + parts.joined(separator: ", ") + ")"
    }
}

/// Reads typed members of an answer object. Unlike a callback, the answer is
/// not signed, so `0` and `false` mean what they say; only `null` and `""`
/// read as absent. Every error names the field with its path (`data.status`).
struct AnswerFields {
    let object: JSONObject
    let path: String

    init(_ object: JSONObject, path: String) {
        self.object = object
        self.path = path
    }

    typealias Reader<T> = @Sendable (JSONValue) -> T?

    func optional<T>(_ name: String, as reader: Reader<T>) throws(OrderQueryAnswerError) -> T? {
        guard let value = object[name] else { return nil }
        if value.isNull || value.stringValue == "" { return nil }
        guard let typed = reader(value) else {
            throw .malformed("\"\(path)\(name)\" is not \(Self.expectation(for: T.self))")
        }
        return typed
    }

    func required<T>(_ name: String, as reader: Reader<T>) throws(OrderQueryAnswerError) -> T {
        guard let value = try optional(name, as: reader) else { throw .malformed("\"\(path)\(name)\" is missing") }
        return value
    }

    private static func expectation(for type: Any.Type) -> String {
        switch type {
        case is Amount.Type: "a decimal amount"
        case is String.Type: "a string"
        default: "an integer"
        }
    }

    static let text: Reader<String> = { $0.stringValue }

    /// A string, or an integer taken as its literal: platform order numbers
    /// are identifiers, and some gateways write them unquoted.
    static let identifier: Reader<String> = { value in
        if let text = value.stringValue { return text }
        if let literal = value.numberLiteral, NumberLiteral.isInteger(literal) { return literal }
        return nil
    }

    /// A JSON integer, or a string holding one (as the amounts may be).
    static func integer<T: FixedWidthInteger & SendableMetatype>(_: T.Type) -> Reader<T> {
        { value in
            guard let literal = value.numberLiteral ?? value.stringValue,
                NumberLiteral.isInteger(literal)
            else { return nil }
            return T(literal)
        }
    }

    /// A JSON number or a string holding one, exact: never through `Double`.
    static let amount: Reader<Amount> = { value in
        (value.numberLiteral ?? value.stringValue).flatMap(Amount.init(_:))
    }
}
