/// Whether a payment callback is about money coming in or going out.
public enum OrderType: Sendable, Hashable, RawRepresentable, CustomStringConvertible {
    /// `0`: collection from a customer.
    case payin
    /// `1`: disbursement to a beneficiary.
    case payout
    /// A code this version does not know; kept, never rejected.
    case unknown(Int)

    public init(rawValue: Int) {
        switch rawValue {
        case 0: self = .payin
        case 1: self = .payout
        default: self = .unknown(rawValue)
        }
    }

    public var rawValue: Int {
        switch self {
        case .payin: 0
        case .payout: 1
        case .unknown(let code): code
        }
    }

    // By code, so `.unknown(0)` built by hand still equals `.payin`.
    public static func == (lhs: OrderType, rhs: OrderType) -> Bool { lhs.rawValue == rhs.rawValue }
    public func hash(into hasher: inout Hasher) { hasher.combine(rawValue) }

    public var description: String {
        switch self {
        case .payin: "payin"
        case .payout: "payout"
        case .unknown(let code): "type \(code)"
        }
    }
}
