/// The merchant's answer to a risk-control request.
public enum RiskDecision: Sendable, Equatable, CustomStringConvertible {
    /// `200`, `text/plain`, body `allow`: let the charge through.
    case allow
    /// `403`: refuse the charge.
    case deny
    /// `503`: cannot decide now.
    case unavailable

    public var description: String {
        switch self {
        case .allow: "allow"
        case .deny: "deny"
        case .unavailable: "unavailable"
        }
    }
}
