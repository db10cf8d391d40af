/// Which callback an inbox event holds, and so which handlers run for it.
public enum EventKind: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// A payin or payout callback (`PaymentCallback`).
    case payment
    /// An open-card or recharge callback (`CardCallback`).
    case card

    public var description: String { rawValue }
}
