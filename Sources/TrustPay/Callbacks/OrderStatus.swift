/// The status of a payin or payout order.
///
/// A status can change more than once for the same order (5 → 9 → 7) and
/// callbacks can arrive out of order.
public enum OrderStatus: Sendable, Hashable, CustomStringConvertible {
    /// `1`
    case pending
    /// `2`: a payout succeeded.
    case paid
    /// `3`
    case failed
    /// `4`
    case timedOut
    /// `5`: a payin succeeded, not yet settled.
    case unliquidated
    /// `6`: settled.
    case statement
    /// `7`
    case refunded
    /// `8`
    case partiallyRefunded
    /// `9`
    case refunding
    /// A code this version does not know; kept, never rejected.
    case unknown(Int)

    public init(code: Int) {
        switch code {
        case 1: self = .pending
        case 2: self = .paid
        case 3: self = .failed
        case 4: self = .timedOut
        case 5: self = .unliquidated
        case 6: self = .statement
        case 7: self = .refunded
        case 8: self = .partiallyRefunded
        case 9: self = .refunding
        default: self = .unknown(code)
        }
    }

    /// The code on the wire.
    public var code: Int {
        switch self {
        case .pending: 1
        case .paid: 2
        case .failed: 3
        case .timedOut: 4
        case .unliquidated: 5
        case .statement: 6
        case .refunded: 7
        case .partiallyRefunded: 8
        case .refunding: 9
        case .unknown(let code): code
        }
    }

    /// The provider's name for the status, in words: `"timed out"`, `"unknown"`.
    public var name: String {
        switch self {
        case .pending: "pending"
        case .paid: "paid"
        case .failed: "failed"
        case .timedOut: "timed out"
        case .unliquidated: "unliquidated"
        case .statement: "statement"
        case .refunded: "refunded"
        case .partiallyRefunded: "partially refunded"
        case .refunding: "refunding"
        case .unknown: "unknown"
        }
    }

    // By code, so `.unknown(5)` built by hand still equals `.unliquidated`.
    public static func == (lhs: OrderStatus, rhs: OrderStatus) -> Bool { lhs.code == rhs.code }
    public func hash(into hasher: inout Hasher) { hasher.combine(code) }

    /// `5 (unliquidated)`
    public var description: String { "\(code) (\(name))" }
}
