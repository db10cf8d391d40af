import TrustPay

/// Identifies a callback's signed content: two bodies with equal hashes
/// would carry the same signature under any secret.
///
/// It is the TrustPay signature computed with an empty secret over the fields
/// as transmitted, so member order, whitespace, the `sign` field itself and
/// fields the signature ignores (empty values) do not change it, while any
/// signed value does. It is not a security measure: the body was verified
/// before it is hashed.
public enum ContentHash {
    public static func of(_ fields: JSONObject) -> String {
        TrustPaySignature().sign(fields, secret: "", form: .asTransmitted)
    }
}
