import TrustPay

/// Why an API call gave no answer. Descriptions never hold the API key, the
/// secret or a signed body.
public enum TrustPayAPIError: Error, Sendable, Equatable, CustomStringConvertible {
    /// TrustPay answered with a code other than `880001`: `880011`
    /// (unauthorized) for a refused API key, a non-success code for an unknown
    /// order, …. Never retried: asking again gets the same answer.
    case provider(code: TrustPayAPICode, message: String)
    /// An HTTP status other than 2xx, without a provider code in the body.
    case httpStatus(Int)
    /// The request did not complete: DNS, connection, TLS, reset, ….
    case transport(String)
    /// No complete answer within the configured timeout.
    case timedOut
    /// A 2xx answer that is not the documented shape, or is about another order.
    case malformedAnswer(String)
    /// No API configuration (key and secret) for this merchant.
    case noCredentials(merchantID: Int64)

    /// Whether another attempt may succeed: transport failures, timeouts and 5xx.
    public var isRetryable: Bool {
        switch self {
        case .transport, .timedOut: true
        case .httpStatus(let status): (500...599).contains(status)
        case .provider, .malformedAnswer, .noCredentials: false
        }
    }

    public var description: String {
        switch self {
        case .provider(let code, let message):
            let said = message.isEmpty ? "" : " (\(quoted(message)))"
            return switch code {
            case .unauthorized:
                "TrustPay refused the API key: \(code)\(said); check merchants[].api.key against the dashboard (Profile)"
            case .badRequest:
                "TrustPay refused the request: \(code)\(said); an unknown order or a signature made with the wrong secret"
            default:
                "TrustPay answered \(code)\(said)"
            }
        case .httpStatus(let status):
            return "TrustPay's API answered HTTP \(status)"
        case .transport(let why):
            return "the request to TrustPay's API failed: \(why)"
        case .timedOut:
            return "TrustPay's API did not answer in time"
        case .malformedAnswer(let why):
            return "TrustPay's API answer is malformed: \(why)"
        case .noCredentials(let merchantID):
            return "merchant \(merchantID) has no API key configured (merchants[].api.key), so its orders cannot be queried"
        }
    }
}

/// A provider-chosen text for one log line: escaped and cut.
func quoted(_ text: String, limit: Int = 160) -> String {
    let cut = text.count > limit ? String(text.prefix(limit)) + "…" : text
    return JSONValue.string(cut).compactJSON
}
