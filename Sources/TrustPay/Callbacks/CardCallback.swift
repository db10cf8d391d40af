/// What a card callback reports, from its `type` field.
public enum CardCallbackKind: Sendable, Hashable, RawRepresentable, CustomStringConvertible {
    /// `OPEN_CARD`: a card was issued (or failed to be).
    case openCard
    /// `CARD_CHARGE`: a card was recharged. The value is an assumption taken
    /// from the card order list; the callback page only shows `OPEN_CARD`.
    case recharge
    /// Any other value, kept as sent.
    case other(String)

    public init(rawValue: String) {
        switch rawValue {
        case "OPEN_CARD": self = .openCard
        case "CARD_CHARGE": self = .recharge
        default: self = .other(rawValue)
        }
    }

    public var rawValue: String {
        switch self {
        case .openCard: "OPEN_CARD"
        case .recharge: "CARD_CHARGE"
        case .other(let value): value
        }
    }

    public static func == (lhs: CardCallbackKind, rhs: CardCallbackKind) -> Bool {
        lhs.rawValue.utf8.elementsEqual(rhs.rawValue.utf8)
    }

    public func hash(into hasher: inout Hasher) { hasher.combine(rawValue) }

    public var description: String { rawValue.isEmpty ? "unspecified" : rawValue }
}

/// An open-card or recharge callback from card issuing, decoded from its body.
///
/// Card order status codes are not published, so ``status`` is the raw code
/// and no value is rejected. `order_no`, `status` and `type` are required
/// (the camelCase spellings `orderNo` and `cardId` are accepted as for
/// payments); the rules of ``SignedContent`` apply as for payments, and a body
/// shaped like a payment callback (`merchant_id` beside an order amount, or an
/// integer `type`) is refused. Decoding does not check the signature.
public struct CardCallback: DecodableCallback, Sendable, Equatable {
    public let orderNo: String
    /// The raw status code (unpublished meaning).
    public let status: Int
    public let cardID: Int64?
    public let amount: Amount?
    public let fee: Amount?
    public let balance: Amount?
    public let kind: CardCallbackKind
    /// The `merchant_id` the body names, if any; it must be the route's merchant.
    public let merchantID: Int64?
    public let reason: String
    /// The signature as received, if any.
    public let sign: String?
    /// Fields this version does not know, in order.
    public let extra: JSONObject
    /// Every field exactly as received.
    public let fields: JSONObject
    /// The body the fields were parsed from.
    public let rawBody: [UInt8]
    /// The typed fields written back, for the round-trip check.
    let renderedBack: RenderedBack


    /// Decodes fields already parsed from `rawBody`.
    public init(fields: JSONObject, rawBody: [UInt8]) throws(CallbackDecodingError) {
        try SignedContent.checkShape(fields, signature: TrustPaySignature())
        try Self.refusePaymentShape(fields)
        var reader = CallbackFields(fields)
        orderNo = try reader.required(.orderNo, as: .string)
        status = try reader.required(.status, as: .anInteger)
        kind = CardCallbackKind(rawValue: try reader.required(.type, as: .string))
        merchantID = try reader.optional(.merchantID, as: .a64BitInteger)
        cardID = try reader.optional(.cardID, as: .a64BitInteger)
        amount = try reader.optional(.amount, as: .amount)
        fee = try reader.optional(.fee, as: .amount)
        balance = try reader.optional(.balance, as: .amount)
        reason = try reader.optional(.reason, as: .string) ?? ""
        sign = fields.signValue?.stringValue
        extra = reader.extra
        renderedBack = reader.takeRenderedBack()
        self.fields = fields
        self.rawBody = rawBody
    }

    /// A payment posted to the card route would otherwise be stored as a card
    /// event: its integer `type` (payin `0` is not even signed) or its
    /// `merchant_id` with an order amount gives it away.
    private static func refusePaymentShape(_ fields: JSONObject) throws(CallbackDecodingError) {
        if case .number? = fields["type"] {
            throw .notACardCallback(reason: "its \"type\" is a number, as in a payment callback")
        }
        let signed = { (name: String) in fields[name].map { !TrustPaySignature.isEmptyForSigning($0) } ?? false }
        if signed("merchant_id") || signed("merchantId"), signed("order_amount") || signed("orderAmount") {
            throw .notACardCallback(reason: "it has a merchant_id and an order_amount, as a payment callback has")
        }
    }
}

extension CardCallback: CustomStringConvertible {
    /// One line for logs: no signature, no raw body, text escaped.
    public var description: String {
        var parts = ["\(kind) \(logQuoted(orderNo))", "status \(status)"]
        if let cardID { parts.append("card \(cardID)") }
        if let amount { parts.append("amount \(amount)") }
        if let fee { parts.append("fee \(fee)") }
        if let balance { parts.append("balance \(balance)") }
        if !reason.isEmpty { parts.append("reason \(logQuoted(reason))") }
        if !extra.isEmpty { parts.append("extra fields \(extra.keys.map { logQuoted($0) }.joined(separator: ","))") }
        return "CardCallback(" + parts.joined(separator: ", ") + ")"
    }
}
