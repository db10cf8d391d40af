/// How number literals are written into the canonical string.
///
/// The provider's pages disagree with themselves (amounts "with two decimals",
/// examples with plain integers), so a verifier can try several forms. All
/// transformations work on the literal text; nothing passes through floating
/// point.
public enum NumberForm: String, CaseIterable, Sendable {
    /// The literal exactly as transmitted: `20.00` stays `20.00`.
    case asTransmitted
    /// Trailing fractional zeros removed: `20.00` → `20`, `2.50` → `2.5`, `0.10` → `0.1`.
    case shortest
    /// Padded to two decimals: `20` → `20.00`, `2.5` → `2.50`; literals with
    /// more than two decimals stay as transmitted.
    case twoDecimals

    /// Renders a JSON number literal in this form.
    ///
    /// Literals with an exponent, and text that is not a JSON number, are
    /// returned unchanged: no signer writes money that way.
    public func render(_ literal: String) -> String {
        guard self != .asTransmitted, let parts = NumberLiteral(literal), parts.exponent == nil else {
            return literal
        }
        switch self {
        case .asTransmitted:
            return literal
        case .shortest:
            guard let fraction = parts.fractionDigits else { return literal }
            var kept = Substring(fraction)
            while kept.last == "0" { kept.removeLast() }
            return parts.sign + parts.integerDigits + (kept.isEmpty ? "" : "." + kept)
        case .twoDecimals:
            switch parts.fractionDigits?.utf8.count {
            case nil: return literal + ".00"
            case 1: return literal + "0"
            default: return literal
            }
        }
    }
}
