/// A callback read from a JSON object TrustPay posted: each type decodes its
/// fields, and every one is read from a raw body the same way.
public protocol DecodableCallback: Sendable {
    /// Decodes fields already parsed (e.g. while verifying the signature) from `rawBody`.
    init(fields: JSONObject, rawBody: [UInt8]) throws(CallbackDecodingError)
}

extension DecodableCallback {
    /// Decodes a raw callback body: a JSON object, then its fields.
    public init(body: some Collection<UInt8>) throws(CallbackDecodingError) {
        let bytes = Array(body)
        try self.init(fields: try CallbackFields.parse(bytes), rawBody: bytes)
    }
}
