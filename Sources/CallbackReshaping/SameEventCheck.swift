import TrustPay

/// The property every reshaped body must keep: it is refused, or it is the
/// same event as the genuine body whose signature it carries (same typed
/// fields, same content hash, same route). Never a new event, never a
/// different one, never a conflict.
public struct SameEventCheck: Sendable {
    /// What became of one body.
    public enum Outcome: Sendable, Equatable {
        case refused(code: String)
        case sameEvent
        /// The property is broken: what differed.
        case violation(String)
    }

    /// What an event means: everything typed a handler reads and what
    /// identifies it. Amounts compare by value; unknown fields by their
    /// signed text.
    public struct Meaning: Sendable, Equatable {
        let route: GenuineCallbacks.Callback.Route
        let parts: [String]
        let amounts: [Amount?]
        let contentHash: String
    }

    let authenticator = CallbackAuthenticator()
    let keys: MerchantKeys

    public init(keys: MerchantKeys = GenuineCallbacks.keys) { self.keys = keys }

    /// The body's meaning on `route`, or the refusal.
    public func meaning(of body: [UInt8], on route: GenuineCallbacks.Callback.Route) -> Result<Meaning, CallbackRefusal> {
        do throws(CallbackRefusal) {
            switch route {
            case .payment:
                let payment = try authenticator.payment(body: body) { $0 == keys.merchantID ? keys : nil }
                return .success(Self.meaning(payment))
            case .card:
                return .success(Self.meaning(try authenticator.card(body: body, merchant: keys)))
            }
        } catch {
            return .failure(error)
        }
    }

    /// `reshaped`, tried on both routes, against the genuine `original`.
    public func check(_ reshaped: [UInt8], against original: GenuineCallbacks.Callback) -> Outcome {
        guard case .success(let expected) = meaning(of: original.body, on: original.route) else {
            return .violation("the genuine body itself is refused")
        }
        var refusals: [String] = []
        for route in GenuineCallbacks.Callback.Route.allCases {
            switch meaning(of: reshaped, on: route) {
            case .failure(let refusal): refusals.append(refusal.code)
            case .success(let actual) where actual == expected: continue
            case .success(let actual): return .violation("accepted on the \(route) route as \(actual), not \(expected)")
            }
        }
        return refusals.count == 2 ? .refused(code: refusals[0]) : .sameEvent
    }

    private static func meaning(_ authentic: AuthenticCallback<PaymentCallback>) -> Meaning {
        let payment = authentic.callback
        return Meaning(
            route: .payment,
            parts: ["\(authentic.merchantID)", "\(payment.merchantID)", "\(payment.type.rawValue)", payment.orderNo,
                    "\(payment.status.code)", payment.reason, payment.payTime ?? "-",
                    JSONValue.array(payment.merchantRefundNos.map { .string($0) }).compactJSON,
                    TrustPaySignature().canonicalString(of: payment.extra, secret: "")],
            amounts: [payment.orderAmount, payment.paidAmount, payment.balanceAmount, payment.refundAmount, payment.fee],
            contentHash: authentic.contentHash)
    }

    private static func meaning(_ authentic: AuthenticCallback<CardCallback>) -> Meaning {
        let card = authentic.callback
        return Meaning(
            route: .card,
            parts: ["\(authentic.merchantID)", card.kind.rawValue, card.orderNo, "\(card.status)",
                    card.cardID.map { "\($0)" } ?? "-", card.reason,
                    TrustPaySignature().canonicalString(of: card.extra, secret: "")],
            amounts: [card.amount, card.fee, card.balance],
            contentHash: authentic.contentHash)
    }
}

extension SameEventCheck.Meaning: CustomStringConvertible {
    public var description: String { "\(route) \(parts) \(amounts.map { $0?.description ?? "-" }) \(contentHash)" }
}
