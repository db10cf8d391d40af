import Foundation
import Inbox
import Testing

/// Event ids are written from the UUID's bytes, not through `uuidString`:
/// the text must stay what `uuidString.lowercased()` gives (stores, the
/// console and merchants' logs hold such ids). Their randomness is drawn
/// from the kernel in bulk.
@Suite struct EventIDTests {
    @Test func isTheLowerCaseUUIDStringOfTheSameUUID() {
        for _ in 0..<2_000 {
            let uuid = UUID()
            #expect(NewInboxEvent.idText(uuid) == uuid.uuidString.lowercased())
        }
        // Every digit, both ends of the byte range.
        for text in ["00000000-0000-0000-0000-000000000000", "FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF",
                     "01234567-89AB-CDEF-0123-456789ABCDEF", "FEDCBA98-7654-3210-FEDC-BA9876543210"] {
            let uuid = try! #require(UUID(uuidString: text))
            #expect(NewInboxEvent.idText(uuid) == text.lowercased())
        }
    }

    @Test func freshIDsAreRandomVersion4UUIDsAndDistinct() {
        var seen = Set<String>()
        for _ in 0..<2_000 {
            let id = NewInboxEvent.makeID()
            let bytes = Array(id.utf8)
            #expect(bytes.count == 36)
            #expect(UUID(uuidString: id)?.uuidString.lowercased() == id)
            #expect(bytes[14] == UInt8(ascii: "4"))  // version 4: random
            #expect("89ab".utf8.contains(bytes[19]))  // RFC 4122 variant
            seen.insert(id)
        }
        #expect(seen.count == 2_000)
    }

    /// Their random bytes come from the kernel 4 KiB at a time
    /// (``RandomUUIDs``), not through `UUID()`, which opened, read and closed
    /// `/dev/urandom` for each id. Failed with `UUID()`: no draw was made.
    @Test func drawTheKernelsRandomnessOncePer256Ids() {
        // Other tests make ids meanwhile: the count is a lower bound.
        let before = RandomUUIDs.draws
        for _ in 0..<2_560 { _ = NewInboxEvent.makeID() }
        let draws = RandomUUIDs.draws - before
        #expect(draws >= 9, "2,560 ids used \(draws) draws of 4 KiB")
    }
}
