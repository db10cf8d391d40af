import Foundation
import Inbox
import Testing

/// Event ids are written from the UUID's bytes, not through `uuidString`:
/// the text must stay what `uuidString.lowercased()` gives (stores, the
/// console and merchants' logs hold such ids). They are time-ordered, and
/// their randomness is drawn from the kernel in bulk.
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

    @Test func freshIDsAreTimeOrderedVersion7UUIDsThatOnlyIncrease() throws {
        let before = UInt64(Date().timeIntervalSince1970 * 1000)
        var ids: [String] = []
        for _ in 0..<2_000 { ids.append(NewInboxEvent.makeID()) }
        let after = UInt64(Date().timeIntervalSince1970 * 1000)
        for id in ids {
            let bytes = Array(id.utf8)
            #expect(bytes.count == 36)
            #expect(UUID(uuidString: id)?.uuidString.lowercased() == id)
            #expect(bytes[14] == UInt8(ascii: "7"))  // version 7: time-ordered
            #expect("89ab".utf8.contains(bytes[19]))  // RFC 9562 variant
            // Their first 48 bits are the time they were made. Another test
            // running meanwhile may run the sequence out (the time field then
            // moves a millisecond ahead), hence the slack.
            let millisecond = try #require(UInt64(id.prefix(8) + id.dropFirst(9).prefix(4), radix: 16))
            #expect(millisecond >= before && millisecond <= after + 10)
        }
        // Lower-case hex sorts as the bytes do: each id is above the one before.
        #expect(zip(ids, ids.dropFirst()).allSatisfy { $0 < $1 })
    }

    /// Ids keep increasing when the clock steps back or more ids are made
    /// in one millisecond than the 12-bit sequence holds (its start is
    /// random, below 2,048): the time field moves on from the last id's.
    @Test func idsKeepIncreasingWhenTheClockStepsBackOrOneMillisecondRunsOut() {
        var last = EventUUIDs.next()
        for _ in 0..<5_000 {
            let id = EventUUIDs.next(now: 1_000)  // 1970: far behind the last id
            #expect(NewInboxEvent.idText(last) < NewInboxEvent.idText(id))
            last = id
        }
    }

    /// Their random bytes come from the kernel 4 KiB at a time
    /// (``EventUUIDs``, 10 bytes an id), not through `UUID()`, which opened,
    /// read and closed `/dev/urandom` for each id. Failed with `UUID()`: no
    /// draw was made.
    @Test func drawTheKernelsRandomnessOncePer409Ids() {
        // Other tests make ids meanwhile: the count is a lower bound.
        let before = EventUUIDs.draws
        for _ in 0..<4_090 { _ = NewInboxEvent.makeID() }
        let draws = EventUUIDs.draws - before
        #expect(draws >= 9, "4,090 ids used \(draws) draws of 4 KiB")
    }
}
