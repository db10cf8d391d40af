import TrustPay

/// A callback body signed the way TrustPay signs it, with the route it goes to.
///
/// Derive broken variants for rejection tests: ``tampered(_:)`` changes the
/// body but keeps the old signature (`401`), ``resigned(_:)`` changes it and
/// signs again (a conflict, if the key stays the same).
public struct SignedCallback: Sendable {
    /// Every field, `sign` last.
    public var fields: JSONObject
    public var path: String
    public var query: String?
    /// The secret it was signed with.
    let secret: String
    let form: NumberForm

    public init(fields: JSONObject, path: String, query: String? = nil, secret: String, form: NumberForm = .asTransmitted) {
        self.fields = TrustPaySignature().signed(fields, secret: secret, form: form)
        self.path = path
        self.query = query
        self.secret = secret
        self.form = form
    }

    /// The compact JSON body.
    public var body: [UInt8] { fields.compactJSONBytes }

    /// The `sign` value.
    public var sign: String { fields[TrustPaySignature.signKey]?.stringValue ?? "" }

    /// The `POST` TrustPay would send.
    public var request: TestRequest { .json(path, body: body, query: query) }

    /// Changed after signing: the signature no longer matches.
    public func tampered(_ change: (inout JSONObject) -> Void) -> SignedCallback {
        var copy = self
        change(&copy.fields)
        return copy
    }

    /// Changed, then signed again with the same secret.
    public func resigned(_ change: (inout JSONObject) -> Void) -> SignedCallback {
        var fields = fields
        change(&fields)
        return SignedCallback(fields: fields, path: path, query: query, secret: secret, form: form)
    }

    /// Signed again with another secret.
    public func signed(with secret: String) -> SignedCallback {
        SignedCallback(fields: fields, path: path, query: query, secret: secret, form: form)
    }

    /// Without the `sign` field.
    public var unsigned: SignedCallback {
        tampered { $0[TrustPaySignature.signKey] = nil }
    }
}
