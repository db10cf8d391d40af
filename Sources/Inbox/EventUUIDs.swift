import CLinuxSys
import Foundation
import Locking

/// Event ids: time-ordered (version 7, RFC 9562) UUIDs, their random bits
/// from the kernel's CSPRNG (`getrandom`) drawn 4 KiB at a time.
///
/// Why time-ordered: the stores index events by id. Random (version 4) ids
/// put every new event, and every attempt kept for it, on a random leaf
/// of those indexes, so each group commit wrote about one index page per
/// event of its batch to the WAL and the checkpoint copied them again;
/// time-ordered ids all land on the index's last pages. Why drawn in bulk:
/// `UUID()` opened, read and closed `/dev/urandom` for every id.
///
/// Layout: 48 bits of Unix time in milliseconds, the version, 12 bits of
/// sequence, the variant, 62 random bits. Within one process ids increase
/// strictly: the sequence starts at a random value below 2,048 in each
/// millisecond and counts up; should it run out, or the clock step back,
/// the time field moves on from the last id's instead (the RFC's
/// monotonic counter method).
package enum EventUUIDs {
    /// Bytes drawn at once.
    package static let drawSize = 4096
    /// Random bytes one id takes: 11 bits of sequence start, 62 of its tail.
    static let randomBytesPerID = 10

    private struct State {
        var bytes: [UInt8] = []
        var next = 0
        var draws = 0
        var lastMillisecond: UInt64 = 0
        var sequence: UInt16 = 0
    }
    private static let state = Locked(State())

    /// A fresh UUID, later than every one this process made before.
    package static func next() -> UUID { next(now: currentMillisecond()) }

    /// `next()` at `now` milliseconds since 1970: for tests of the clock's
    /// corner cases.
    package static func next(now: UInt64) -> UUID {
        state.withLock { state in
            if state.next + randomBytesPerID > state.bytes.count {
                state.bytes = draw(drawSize)
                state.next = 0
                state.draws += 1
            }
            let offset = state.next
            state.next += randomBytesPerID
            if now > state.lastMillisecond {
                state.lastMillisecond = now
                state.sequence = (UInt16(state.bytes[offset]) << 3 | UInt16(state.bytes[offset + 1] >> 5)) & 0x07FF
            } else if state.sequence < 0x0FFF {
                state.sequence += 1
            } else {
                state.lastMillisecond += 1
                state.sequence = 0
            }
            let time = state.lastMillisecond
            let sequence = state.sequence
            return UUID(uuid: (
                UInt8(truncatingIfNeeded: time >> 40), UInt8(truncatingIfNeeded: time >> 32),
                UInt8(truncatingIfNeeded: time >> 24), UInt8(truncatingIfNeeded: time >> 16),
                UInt8(truncatingIfNeeded: time >> 8), UInt8(truncatingIfNeeded: time),
                0x70 | UInt8(sequence >> 8), UInt8(truncatingIfNeeded: sequence),
                0x80 | (state.bytes[offset + 2] & 0x3F), state.bytes[offset + 3],
                state.bytes[offset + 4], state.bytes[offset + 5], state.bytes[offset + 6], state.bytes[offset + 7],
                state.bytes[offset + 8], state.bytes[offset + 9]))
        }
    }

    /// How many times the pool has drawn from the kernel: for tests.
    package static var draws: Int { state.withLock { $0.draws } }

    private static func currentMillisecond() -> UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return UInt64(max(0, now.tv_sec)) * 1000 + UInt64(max(0, now.tv_nsec)) / 1_000_000
    }

    /// `count` random bytes. Should `getrandom` be refused (a kernel older
    /// than 3.17, a seccomp filter), the rest comes from the standard
    /// library's generator, which falls back to `/dev/urandom`.
    private static func draw(_ count: Int) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        bytes.withUnsafeMutableBytes { raw in
            var filled = 0
            while filled < count {
                let n = getrandom(raw.baseAddress! + filled, count - filled, 0)
                if n > 0 {
                    filled += n
                } else if n < 0 && errno == EINTR {
                    continue
                } else {
                    var generator = SystemRandomNumberGenerator()
                    while filled < count {
                        raw[filled] = UInt8.random(in: .min ... .max, using: &generator)
                        filled += 1
                    }
                }
            }
        }
        return bytes
    }
}
