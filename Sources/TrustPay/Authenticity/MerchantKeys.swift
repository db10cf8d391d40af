/// What checking one merchant's callbacks takes: its id, its secrets
/// (current first, so a rotation can overlap) and the number forms its
/// signatures may use.
public struct MerchantKeys: Sendable, Equatable {
    public let merchantID: Int64
    public let secrets: [String]
    public let forms: [NumberForm]

    public init(merchantID: Int64, secrets: [String], forms: [NumberForm] = NumberForm.allCases) {
        self.merchantID = merchantID
        self.secrets = secrets
        self.forms = forms
    }
}
