/// Why a callback body was not accepted as an authentic event: the rule it
/// broke. Messages name fields and rules, never values from the body or a
/// secret.
public enum CallbackRefusal: Error, Sendable, Equatable, CustomStringConvertible {
    /// The body is not the expected callback (shape, types, required fields).
    case undecodable(CallbackDecodingError)
    /// No merchant here takes callbacks for the body's `merchant_id` (or, on a
    /// card route, no merchant could be chosen).
    case unknownMerchant
    /// A card body names a `merchant_id` other than its route's merchant.
    case merchantMismatch
    case signature(SignatureFailure)
    /// The signature verifies, but the typed callback does not write back
    /// into the text that was signed: the body could be read more than one way.
    case ambiguousBody

    /// A short machine-readable name of the rule, distinct per rule.
    public var code: String {
        switch self {
        case .undecodable(let error): error.code
        case .unknownMerchant: "unknown_merchant"
        case .merchantMismatch: "merchant_mismatch"
        case .signature(.missingSign), .signature(.emptySign): "missing_signature"
        case .signature(.invalidJSON), .signature(.notAnObject): "invalid_json"
        case .signature: "invalid_signature"
        case .ambiguousBody: "ambiguous_body"
        }
    }

    public var description: String {
        switch self {
        case .undecodable(let error): error.description
        case .unknownMerchant: "callbacks for this merchant are not accepted here"
        case .merchantMismatch: "the body's merchant_id is not the merchant of this route"
        case .signature(let failure): failure.description
        case .ambiguousBody:
            "the signed text does not match the callback read from the body: it could be read more than one way"
        }
    }
}
