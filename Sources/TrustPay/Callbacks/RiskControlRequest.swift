/// TrustPay asking, before charging a card, whether to let the charge through.
///
/// Answer `200` with the plain-text body `allow`, `403` to deny, `503` when
/// undecided. The provider does not document a signature on this request.
///
/// Decoding is lenient: only `orderId` is required; the card fields default to
/// `""` and their shape is not enforced, because refusing to decode would
/// leave the merchant unable to answer at all. Check ``hasWellFormedCardDigits``
/// when a rule depends on them. A numeric `orderId` or card field is taken as
/// its literal text.
///
/// The card holder's name is personal data: ``description``, `debugDescription`
/// and `dump` show only ``maskedCardHolderName``.
public struct RiskControlRequest: DecodableCallback, Sendable, Equatable {
    public let orderID: String
    /// The first six digits of the card number.
    public let cardPrefix: String
    /// The last four digits of the card number.
    public let cardSuffix: String
    /// The name on the card, in full: do not log it.
    public let cardHolderName: String
    /// Fields this version does not know, in order.
    public let extra: JSONObject
    /// The body as received (it contains the holder's name).
    public let rawBody: [UInt8]


    /// Decodes fields already parsed from `rawBody`.
    public init(fields: JSONObject, rawBody: [UInt8]) throws(CallbackDecodingError) {
        var reader = CallbackFields(fields)
        orderID = try reader.required(.orderID, as: .lenientIdentifier)
        cardPrefix = try reader.optional(.cardPrefix, as: .lenientIdentifier) ?? ""
        cardSuffix = try reader.optional(.cardSuffix, as: .lenientIdentifier) ?? ""
        cardHolderName = try reader.optional(.cardHolderName, as: .string) ?? ""
        extra = reader.extra
        self.rawBody = rawBody
    }

    /// Whether the prefix is exactly six ASCII digits and the suffix four.
    public var hasWellFormedCardDigits: Bool {
        func digits(_ text: String, _ count: Int) -> Bool {
            text.utf8.count == count && text.utf8.allSatisfy { (0x30...0x39).contains($0) }
        }
        return digits(cardPrefix, 6) && digits(cardSuffix, 4)
    }

    /// Each word's first letter followed by `***`: `"John Smith"` → `"J*** S***"`.
    /// The length of the name is not revealed.
    public var maskedCardHolderName: String {
        cardHolderName.split(whereSeparator: \.isWhitespace)
            .map { "\($0.first.map(String.init) ?? "")***" }
            .joined(separator: " ")
    }
}

extension RiskControlRequest: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// One line for logs, with the holder's name masked.
    public var description: String {
        "RiskControlRequest(order \(logQuoted(orderID)), card \(logQuoted(cardPrefix + "…" + cardSuffix)), "
            + "holder \(logQuoted(maskedCardHolderName)))"
    }

    public var debugDescription: String { description }

    /// Keeps `dump` and other reflection from printing the name or the raw body.
    public var customMirror: Mirror {
        Mirror(
            self,
            children: [
                "orderID": orderID, "cardPrefix": cardPrefix, "cardSuffix": cardSuffix,
                "cardHolderName": maskedCardHolderName, "extraFields": extra.keys,
            ])
    }
}
