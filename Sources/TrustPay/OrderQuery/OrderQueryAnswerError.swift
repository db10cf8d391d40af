/// Why an Order Query answer holds no order. Messages name fields and codes,
/// never values from the body beyond the provider's own `message`.
public enum OrderQueryAnswerError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The provider answered with a code other than `880001`: an unknown
    /// order, a refused API key (`880011`), a bad signature, ….
    case provider(code: TrustPayAPICode, message: String)
    /// The body is not the documented shape; the text names the field.
    case malformed(String)

    public var description: String {
        switch self {
        case .provider(let code, let message):
            "TrustPay answered \(code)" + (message.isEmpty ? "" : ": \(logQuoted(message))")
        case .malformed(let why):
            "the Order Query answer is malformed: \(why)"
        }
    }
}
