import CLinuxSys
import Foundation
import Locking

/// Random (version 4) UUIDs for event ids, from the kernel's CSPRNG
/// (`getrandom`) drawn 4 KiB at a time: one system call per 256 ids.
/// `UUID()` opened, read and closed `/dev/urandom` for every id, three
/// system calls on every callback (strace under wrk, BENCHMARKS.md
/// session 10). The bytes are as random as `UUID()`'s; each is used once.
package enum RandomUUIDs {
    /// Bytes drawn at once.
    package static let drawSize = 4096

    private struct Pool {
        var bytes: [UInt8] = []
        var next = 0
        var draws = 0
    }
    private static let pool = Locked(Pool())

    /// A fresh random UUID.
    package static func next() -> UUID {
        pool.withLock { pool in
            if pool.next + 16 > pool.bytes.count {
                pool.bytes = draw(drawSize)
                pool.next = 0
                pool.draws += 1
            }
            defer { pool.next += 16 }
            var uuid = pool.bytes.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: pool.next, as: uuid_t.self) }
            uuid.6 = (uuid.6 & 0x0F) | 0x40  // version 4
            uuid.8 = (uuid.8 & 0x3F) | 0x80  // the RFC 4122 variant
            return UUID(uuid: uuid)
        }
    }

    /// How many times the pool has drawn from the kernel: for tests.
    package static var draws: Int { pool.withLock { $0.draws } }

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
