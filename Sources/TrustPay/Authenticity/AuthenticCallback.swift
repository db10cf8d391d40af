/// A callback whose signature verified and whose typed fields are exactly
/// what was signed (see ``SignedContent``).
public struct AuthenticCallback<Callback: Sendable>: Sendable {
    public let callback: Callback
    /// The merchant whose secret verified it.
    public let merchantID: Int64
    /// Which secret and number form matched.
    public let secretIndex: Int
    public let form: NumberForm
    /// Identifies the signed content: equal for two bodies exactly when
    /// their signed texts are equal. Lower-case hex.
    public let contentHash: String
}
