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
    public let rawValue: String

    public init(rawValue: String) { self.rawValue = rawValue }

    public var description: String { rawValue }

    // Byte for byte, as SQLite and PostgreSQL compare the column: Swift's
    // `String ==` holds canonically equivalent text ("é" precomposed and
    // decomposed) equal, which made two callbacks one event in memory and
    // two in a database.
    public static func == (a: IdempotencyKey, b: IdempotencyKey) -> Bool { a.rawValue.utf8.elementsEqual(b.rawValue.utf8) }
    public func hash(into hasher: inout Hasher) { hashUTF8(rawValue, into: &hasher) }
}

/// Hashes a string's UTF-8 bytes, consistent with byte-for-byte equality
/// (`String`'s own hash follows canonical equivalence).
func hashUTF8(_ text: String, into hasher: inout Hasher) {
    hasher.combine(text.utf8.count)
    for byte in text.utf8 { hasher.combine(byte) }
}
