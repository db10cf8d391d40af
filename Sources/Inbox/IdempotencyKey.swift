/// What makes two callbacks "the same event": an opaque text the inbox
/// indexes uniquely and compares byte for byte, never parses.
///
/// The rule that derives it from a callback is TrustPay's and lives in
/// `TrustPay` (`PaymentCallback.idempotencyKey`,
/// `CardCallback.idempotencyKey(merchantID:)`); the pipeline builds the key
/// from that text. An Order Query answer carries no refund numbers, so a
/// reconciled event and a callback of one order and status are also matched
/// on (order, status): see ``IdempotencyStore/record(_:lease:now:)``.
public struct IdempotencyKey: Sendable, Hashable, CustomStringConvertible {
    /// Compared byte for byte, hashed once (see ``HashedText``).
    let hashed: HashedText

    public var rawValue: String { hashed.text }

    public init(rawValue: String) { hashed = HashedText(rawValue) }

    public var description: String { rawValue }
}
