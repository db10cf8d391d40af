import Foundation

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
    public static func == (a: IdempotencyKey, b: IdempotencyKey) -> Bool { utf8Equal(a.rawValue, b.rawValue) }
    public func hash(into hasher: inout Hasher) { hashUTF8(rawValue, into: &hasher) }
}

/// Hashes a string's UTF-8 bytes, consistent with byte-for-byte equality
/// (`String`'s own hash follows canonical equivalence). In one call over
/// the contiguous bytes: byte by byte, the keys' hashing and comparing
/// were the largest cost of the memory inbox's bookkeeping (callgrind).
func hashUTF8(_ text: String, into hasher: inout Hasher) {
    var contiguous = text
    contiguous.makeContiguousUTF8()  // a no-op for native strings
    _ = contiguous.utf8.withContiguousStorageIfAvailable { hasher.combine(bytes: UnsafeRawBufferPointer($0)) }
    hasher.combine(0xFF as UInt8)  // never a UTF-8 byte: ends the text
}

/// Byte-for-byte equality of two strings' UTF-8 (see ``hashUTF8(_:into:)``).
func utf8Equal(_ a: String, _ b: String) -> Bool {
    guard a.utf8.count == b.utf8.count else { return false }
    var a = a, b = b
    a.makeContiguousUTF8()
    b.makeContiguousUTF8()
    let equal = a.utf8.withContiguousStorageIfAvailable { x in
        b.utf8.withContiguousStorageIfAvailable { y in x.isEmpty || memcmp(x.baseAddress!, y.baseAddress!, x.count) == 0 }
    }
    return (equal ?? nil) ?? a.utf8.elementsEqual(b.utf8)
}
