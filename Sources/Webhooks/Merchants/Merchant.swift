import TrustPay

/// A merchant account whose callbacks this server accepts.
///
/// Several secrets allow rotation: put the new one first and keep the old
/// one until no callback signed with it can still arrive. `description`
/// never shows a secret.
public struct Merchant: Sendable, Equatable, CustomStringConvertible {
    /// The `merchant_id` TrustPay puts in payment callbacks.
    public var id: Int64
    /// Secrets from the dashboard (Profile), current first.
    public var secrets: [String]
    /// How number literals may have been rendered when signing, tried in order
    /// (the provider's documentation is inconsistent; see `NumberForm`).
    public var numberForms: [NumberForm]

    public init(id: Int64, secrets: [String], numberForms: [NumberForm] = NumberForm.allCases) {
        self.id = id
        self.secrets = secrets
        self.numberForms = numberForms
    }

    public init(id: Int64, secret: String, numberForms: [NumberForm] = NumberForm.allCases) {
        self.init(id: id, secrets: [secret], numberForms: numberForms)
    }

    /// What the wire format needs to check this merchant's callbacks.
    public var keys: MerchantKeys { MerchantKeys(merchantID: id, secrets: secrets, forms: numberForms) }

    public var description: String {
        "Merchant(\(id), \(secrets.count) secret\(secrets.count == 1 ? "" : "s"), numbers "
            + numberForms.map(\.rawValue).joined(separator: "/") + ")"
    }
}
