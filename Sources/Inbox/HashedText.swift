import Foundation  // memcmp

/// Text compared byte for byte, with its hash worked out once, when it is
/// made: the keys of the memory inbox's tables (idempotency keys, orders,
/// event ids).
///
/// Why carry the hash: a Swift dictionary that deletes an entry moves the
/// entries after it in their run of occupied buckets, hashing each of their
/// keys again, and at capacity every record evicts the oldest event from
/// four tables. Hashing a key read its text: a string last touched by
/// another thread a hundred thousand events earlier, a cache miss and a
/// retain each. Evictions were 9% of the server's CPU on the memory path
/// under `wrk` (perf, BENCHMARKS.md session 15); with the hash beside the
/// text in the bucket, a rehash reads nothing else.
///
/// Byte for byte, as SQLite and PostgreSQL compare the columns: Swift's
/// `String ==` holds canonically equivalent text ("é" precomposed and
/// decomposed) equal, which made two callbacks one event in memory and two
/// in a database.
struct HashedText: Sendable, Hashable {
    let text: String
    private let hash: Int

    init(_ text: String) {
        self.text = text
        var hasher = Hasher()
        hashUTF8(text, into: &hasher)
        hash = hasher.finalize()
    }

    static func == (a: HashedText, b: HashedText) -> Bool { a.hash == b.hash && utf8Equal(a.text, b.text) }
    func hash(into hasher: inout Hasher) { hasher.combine(hash) }
}

/// Hashes a string's UTF-8 bytes, consistent with byte-for-byte equality
/// (`String`'s own hash follows canonical equivalence), in one call over
/// the contiguous bytes.
func hashUTF8(_ text: String, into hasher: inout Hasher) {
    // Read in place (a native string always is contiguous): a copy to make
    // it contiguous retained and released the string each time.
    let hashed: Void? = text.utf8.withContiguousStorageIfAvailable { hasher.combine(bytes: UnsafeRawBufferPointer($0)) }
    if hashed == nil {
        var contiguous = text
        contiguous.makeContiguousUTF8()
        _ = contiguous.utf8.withContiguousStorageIfAvailable { hasher.combine(bytes: UnsafeRawBufferPointer($0)) }
    }
    hasher.combine(0xFF as UInt8)  // never a UTF-8 byte: ends the text
}

/// Byte-for-byte equality of two strings' UTF-8.
func utf8Equal(_ a: String, _ b: String) -> Bool {
    guard a.utf8.count == b.utf8.count else { return false }
    let equal = a.utf8.withContiguousStorageIfAvailable { x in
        b.utf8.withContiguousStorageIfAvailable { y in x.isEmpty || memcmp(x.baseAddress!, y.baseAddress!, x.count) == 0 }
    }
    return (equal ?? nil) ?? a.utf8.elementsEqual(b.utf8)
}
