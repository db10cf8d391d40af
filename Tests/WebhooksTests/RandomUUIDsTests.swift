import Foundation
import Inbox
import Testing

/// Event ids come from a pool of the kernel's random bytes, drawn 4 KiB at
/// a time, instead of `UUID()`'s open, read and close of `/dev/urandom`
/// for each one.
@Suite struct RandomUUIDsTests {
    /// Failed while ids came from `UUID()`: the pool was never drawn from.
    @Test func drawsTheKernelsRandomnessOncePer256Ids() {
        // Other tests make ids meanwhile: count draws against the ids made here only as a bound.
        let before = RandomUUIDs.draws
        for _ in 0..<2_560 { _ = NewInboxEvent.makeID() }
        let draws = RandomUUIDs.draws - before
        #expect(draws >= 9, "2,560 ids used \(draws) draws of 4 KiB")
    }

    @Test func idsAreDistinctLowerCaseVersion4UUIDs() throws {
        var seen = Set<String>()
        for _ in 0..<20_000 {
            let id = NewInboxEvent.makeID()
            #expect(seen.insert(id).inserted, "\(id) came twice")
            let uuid = try #require(UUID(uuidString: id), "\(id) is not a UUID")
            #expect(id == uuid.uuidString.lowercased())
            #expect(uuid.uuid.6 >> 4 == 4, "version")
            #expect(uuid.uuid.8 >> 6 == 0b10, "variant")
        }
    }
}
